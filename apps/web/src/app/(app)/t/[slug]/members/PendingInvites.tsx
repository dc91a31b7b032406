import { MailIcon } from '../../../../../components/Icons';
import { ROLE_LABELS, type TeamRole } from '../../../../../graphql/roles';
import { formatDate } from '../../../../../lib/format';

interface PendingInvite {
  id: string;
  email: string;
  role: TeamRole;
  createdAt: string;
  expiresAt: string;
}

export function PendingInvites({ invites }: { invites: readonly PendingInvite[] }) {
  return (
    <section className="card" aria-labelledby="invites-heading">
      <div className="card-header">
        <div>
          <h2 id="invites-heading">Pending invites</h2>
          <p className="muted">Invites that have not been accepted yet. Each link works once, for 7 days.</p>
        </div>
      </div>
      {invites.length === 0 ? (
        <div className="empty">
          <span className="empty-icon">
            <MailIcon size={22} />
          </span>
          <p>No pending invites. Invite someone above and send them the link.</p>
        </div>
      ) : (
        <ul className="list">
          {invites.map((invite) => (
            <li key={invite.id} className="list-item">
              <span className="avatar" aria-hidden="true">
                <MailIcon />
              </span>
              <div className="list-item-main">
                <div className="list-item-title">{invite.email}</div>
                <div className="list-item-sub">
                  Invited {formatDate(invite.createdAt)} · expires {formatDate(invite.expiresAt)}
                </div>
              </div>
              <span className="badge">{ROLE_LABELS[invite.role]}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
