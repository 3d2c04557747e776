/**
 * @module core/image-wait
 * Why a queued task waits for its image, from what workers advertise. A container worker claims
 * only tasks whose image it has (worker/images.ts); each worker lists, in its store record, the
 * images of queued tasks it checked and lacks (`images_missing`). A task whose image every live
 * worker that could otherwise run it lacks waits until someone provides the image: status shows
 * {@link imageWaitReason}'s message, which names the image and how to provide it.
 *
 * Pure functions, shared by the status view (server) and the worker's own messages.
 */

/** The fields of a worker record this module reads. */
export interface ImageAwareWorker {
  id: string;
  /** podman, docker, sandbox, process. */
  runtime: string;
  /** Images of queued tasks it checked and does not have (absent: it checks none). */
  images_missing?: readonly string[] | undefined;
}

/** The engine commands that provide an image on a worker host. */
export function imageProvideHint(image: string, engine = 'podman'): string {
  return (
    `'${engine} pull ${image}' (from a registry), '${engine} load -i image.tar' (a saved image), ` +
    `or '${engine} build -t ${image} .' (from a Containerfile)`
  );
}

/** The wait message for `image`, lacking on `workers` (ids). */
export function imageWaitMessage(
  image: string,
  workers: readonly string[],
  engine = 'podman',
): string {
  const on = workers.length === 1 ? `worker ${workers[0]}` : `any worker (${workers.join(', ')})`;
  return (
    `image ${image} is not available on ${on}: provide it on a worker host with ` +
    `${imageProvideHint(image, engine)}; the task stays queued and starts once a worker has it`
  );
}

/**
 * Why a task naming `image` waits, or null when it does not wait for its image.
 * @param workers the live workers that could otherwise run the task (labels and resources fit).
 * @returns the message and the workers that lack it, when every one of them lacks it.
 */
export function imageWaitReason(
  image: string | null,
  workers: readonly ImageAwareWorker[],
): { message: string; workers: string[] } | null {
  if (image === null || workers.length === 0) return null;
  if (!workers.every((w) => w.images_missing?.includes(image) === true)) return null;
  const ids = workers.map((w) => w.id);
  // Docker commands only when every worker concerned is a docker worker.
  const engine = workers.every((w) => w.runtime === 'docker') ? 'docker' : 'podman';
  return { message: imageWaitMessage(image, ids, engine), workers: ids };
}
