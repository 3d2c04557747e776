import { describe, expect, it } from 'vitest';

import { imageWaitMessage, imageWaitReason } from './image-wait.ts';

const lacks = (id: string, runtime = 'podman') => ({ id, runtime, images_missing: ['img:1'] });

describe('imageWaitReason', () => {
  it('names the image, the workers and how to provide it when every worker lacks it', () => {
    expect(imageWaitReason('img:1', [lacks('w1'), lacks('w2')])).toEqual({
      message:
        "image img:1 is not available on any worker (w1, w2): provide it on a worker host with 'podman pull img:1' (from a registry), 'podman load -i image.tar' (a saved image), or 'podman build -t img:1 .' (from a Containerfile); the task stays queued and starts once a worker has it",
      workers: ['w1', 'w2'],
    });
  });

  it('is null when one worker has not reported the image missing (it has it, or runs no images)', () => {
    expect(
      imageWaitReason('img:1', [lacks('w1'), { id: 'w2', runtime: 'podman', images_missing: [] }]),
    ).toBeNull();
    expect(imageWaitReason('img:1', [lacks('w1'), { id: 'w3', runtime: 'sandbox' }])).toBeNull();
  });

  it('is null without an image or without workers', () => {
    expect(imageWaitReason(null, [lacks('w1')])).toBeNull();
    expect(imageWaitReason('img:1', [])).toBeNull();
  });

  it('speaks docker to docker workers', () => {
    expect(imageWaitReason('img:1', [lacks('w1', 'docker')])?.message).toContain(
      "'docker load -i image.tar'",
    );
    expect(imageWaitMessage('img:1', ['w1'])).toContain('on worker w1:');
  });
});
