import { ChartIcon, ImagesIcon } from './Icons';

// What an empty team sees, and what to do next.

export function NoDatasets() {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ImagesIcon size={22} />
      </span>
      <h3>No datasets yet</h3>
      <p>
        Upload a dataset to start training: a folder of PNG or JPEG images, one sub-folder per class if you want labels. Uploading from
        this page is coming; until then, datasets created through the API (createDataset, createUpload) appear here.
      </p>
    </div>
  );
}

export function NoRuns() {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ChartIcon size={22} />
      </span>
      <h3>No runs yet</h3>
      <p>Start a run on a prepared dataset to see it here with its progress. Starting runs from this page is coming; runs started through the API (startRun) appear here.</p>
    </div>
  );
}
