import { ModelSkeleton } from '../../../components/models/Skeletons';

export default function Loading() {
  return (
    <main className="main">
      <ModelSkeleton />
    </main>
  );
}
