import { ModelSkeleton } from '../../../../../../components/models/Skeletons';

export default function Loading() {
  return <ModelSkeleton />;
}
