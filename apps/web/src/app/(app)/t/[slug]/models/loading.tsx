import { GallerySkeleton } from '../../../../../components/models/Skeletons';

export default function Loading() {
  return <GallerySkeleton />;
}
