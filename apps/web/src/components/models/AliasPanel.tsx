'use client';

import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import { RemoveAliasMutation, SetAliasMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FieldError } from '../Field';
import { XIcon } from '../Icons';
import { SubmitButton } from '../SubmitButton';
import styles from './models.module.css';

interface VersionOption {
  id: string;
  number: number;
}

const ALIAS_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Moved by publishing and deleting versions, never by hand; the API refuses to remove it. */
const LATEST = 'latest';

/**
 * Aliases with a select each to move them and a button to remove them (editors and up), and a form to add
 * one. Every move and removal is audited by the API; the page shows the trail under this panel.
 */
export function AliasPanel({
  modelId,
  aliases,
  versions,
  canMove,
}: {
  modelId: string;
  aliases: readonly { name: string; versionId: string }[];
  versions: readonly VersionOption[];
  canMove: boolean;
}) {
  const router = useRouter();
  const [pending, setPending] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [newName, setNewName] = useState('');
  const [newVersion, setNewVersion] = useState(versions[0]?.id ?? '');
  const baseId = useId();
  const numberOf = (id: string) => versions.find((v) => v.id === id)?.number;

  async function move(name: string, versionId: string): Promise<boolean> {
    setPending(name);
    setErrors((e) => ({ ...e, [name]: '' }));
    const result = await request(SetAliasMutation, { modelId, name, versionId });
    setPending(null);
    if (!result.ok) {
      setErrors((e) => ({ ...e, [name]: result.errors[0]?.message ?? 'Could not move the alias' }));
      return false;
    }
    router.refresh();
    return true;
  }

  async function remove(name: string) {
    setPending(name);
    setErrors((e) => ({ ...e, [name]: '' }));
    const result = await request(RemoveAliasMutation, { modelId, name });
    setPending(null);
    if (!result.ok)
      return setErrors((e) => ({ ...e, [name]: result.errors[0]?.message ?? 'Could not remove the alias' }));
    router.refresh();
  }

  async function add(event: React.FormEvent) {
    event.preventDefault();
    const name = newName.trim().toLowerCase();
    if (!ALIAS_NAME.test(name)) {
      setErrors((e) => ({
        ...e,
        new: 'Use 1–63 lowercase letters, digits, “.”, “_” or “-”, starting with a letter or digit.',
      }));
      return;
    }
    if (aliases.some((a) => a.name === name)) {
      setErrors((e) => ({ ...e, new: `“${name}” exists already: move it with its select above.` }));
      return;
    }
    if (await move(name, newVersion)) setNewName('');
    else setErrors((e) => ({ ...e, new: e[name] ?? 'Could not add the alias' }));
  }

  return (
    <div className="card-body" style={{ display: 'grid', gap: 12 }}>
      {aliases.length > 0 ? (
        <div className={styles.aliasList}>
          {aliases.map((alias) => {
            const id = `${baseId}-${alias.name}`;
            return (
              <div key={alias.name} className={styles.aliasItem} data-testid={`alias-${alias.name}`}>
                <label htmlFor={id} className={styles.aliasName}>
                  {alias.name}
                </label>
                {canMove ? (
                  <>
                    <select
                      id={id}
                      className="select"
                      value={alias.versionId}
                      disabled={pending !== null}
                      aria-describedby={errors[alias.name] ? `${id}-error` : undefined}
                      onChange={(e) => void move(alias.name, e.target.value)}
                    >
                      {versions.map((v) => (
                        <option key={v.id} value={v.id}>
                          Version {v.number}
                        </option>
                      ))}
                    </select>
                    {alias.name !== LATEST ? (
                      <button
                        type="button"
                        className={`btn btn-ghost btn-sm ${styles.iconButton}`}
                        disabled={pending !== null}
                        aria-label={`Remove alias ${alias.name}`}
                        title={`Remove alias ${alias.name}`}
                        aria-busy={pending === alias.name || undefined}
                        onClick={() => void remove(alias.name)}
                      >
                        <XIcon />
                      </button>
                    ) : null}
                  </>
                ) : (
                  <span id={id}>Version {numberOf(alias.versionId) ?? '?'}</span>
                )}
                {errors[alias.name] ? <FieldError id={`${id}-error`}>{errors[alias.name]}</FieldError> : null}
              </div>
            );
          })}
        </div>
      ) : null}
      {canMove && versions.length > 0 ? (
        <form onSubmit={add} className="form" noValidate style={{ gap: 8 }}>
          <div className="field">
            <label htmlFor={`${baseId}-new`}>New alias</label>
            <input
              id={`${baseId}-new`}
              className="input"
              value={newName}
              placeholder="best, prod, …"
              onChange={(e) => {
                setNewName(e.target.value);
                setErrors((er) => ({ ...er, new: '' }));
              }}
              aria-invalid={errors.new ? true : undefined}
              aria-describedby={errors.new ? `${baseId}-new-error` : undefined}
            />
            {errors.new ? <FieldError id={`${baseId}-new-error`}>{errors.new}</FieldError> : null}
          </div>
          <div className="field">
            <label htmlFor={`${baseId}-new-version`}>Points at</label>
            <select
              id={`${baseId}-new-version`}
              className="select"
              value={newVersion}
              onChange={(e) => setNewVersion(e.target.value)}
            >
              {versions.map((v) => (
                <option key={v.id} value={v.id}>
                  Version {v.number}
                </option>
              ))}
            </select>
          </div>
          <SubmitButton
            pending={pending !== null && pending === newName.trim().toLowerCase()}
            variant="secondary"
            size="sm"
          >
            Add alias
          </SubmitButton>
        </form>
      ) : null}
    </div>
  );
}
