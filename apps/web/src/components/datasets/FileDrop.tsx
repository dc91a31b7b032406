'use client';

import { useState } from 'react';
import { UploadIcon } from '../Icons';
import { fromDrop, fromInput, type PickedFile } from '../../lib/upload/pick-files';

/**
 * Drop zone with "Choose files" and "Choose a folder"; folders are walked, sub-folder names kept in the paths.
 * Archives are accepted as they are (the hub expands them).
 */
export function FileDrop({
  labelledBy,
  errorId,
  disabled,
  hint = 'PNG, JPEG, WebP or GIF images (with .txt captions), or .zip / .tar archives of them; sub-folders become class labels',
  onFiles,
}: {
  labelledBy: string;
  /** The id of the error shown under the zone, when there is one. */
  errorId?: string;
  disabled: boolean;
  hint?: string;
  onFiles: (files: PickedFile[]) => void;
}) {
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className={`dropzone${dragging ? ' dropzone-active' : ''}${errorId ? ' dropzone-invalid' : ''}`}
      aria-labelledby={labelledBy}
      aria-describedby={errorId}
      role="group"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setDragging(false);
        if (!disabled) onFiles(await fromDrop(e.dataTransfer.items));
      }}
    >
      <span className="empty-icon">
        <UploadIcon size={22} />
      </span>
      <p>
        <strong>Drop a folder, images or archives (zip) here</strong>
        <br />
        <span className="muted">{hint}</span>
      </p>
      <div className="form-row" style={{ justifyContent: 'center' }}>
        <label className="btn btn-secondary btn-sm">
          Choose files
          <input
            type="file"
            multiple
            // Images, captions and the archives the hub expands (a zip is a dataset too).
            accept="image/*,.txt,.zip,.tar,.tgz,.tar.gz,application/zip,application/x-tar"
            className="visually-hidden"
            disabled={disabled}
            data-testid="choose-files"
            onChange={(e) => {
              if (e.currentTarget.files) onFiles(fromInput(e.currentTarget.files));
              e.currentTarget.value = ''; // so picking the same file again fires change again
            }}
          />
        </label>
        <label className="btn btn-secondary btn-sm">
          Choose a folder
          <input
            type="file"
            multiple
            className="visually-hidden"
            disabled={disabled}
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => {
              if (e.currentTarget.files) onFiles(fromInput(e.currentTarget.files));
              e.currentTarget.value = '';
            }}
          />
        </label>
      </div>
    </div>
  );
}
