package quasiroll.worker.runtime;

import quasiroll.common.sampler.DecodeParams;

/**
 * Optional capability of a {@link DecodeSession} whose logits live on an accelerator: the coupled
 * sampling step runs there too, so only token ids, CDF buckets and logprobs cross to the host each
 * step instead of n x vocab logits. The decode loop uses it when {@link #samplesOnDevice} says so
 * and otherwise falls back to {@link DecodeSession#step} plus the host sampler; both choose the
 * same tokens (see docs/gpu-backend.md for the rounding-boundary exception).
 */
public interface DeviceSampling {
  /** True when these params can be sampled on the device (vocabulary order by id). */
  boolean samplesOnDevice(DecodeParams params);

  /** Like {@link DecodeSession#step} but keeps the logits on the device for {@link #sample}. */
  void stepOnDevice(int[] sequences, int[] tokens, int n);

  /**
   * Chooses a token for each of rows 0..n-1 of the latest logits (those of the last {@link
   * #stepOnDevice} call, or the prompt's logits for every row right after open) from {@code
   * codes[j]} (the sample's {@code SampleNoise.code()}); the caller then advances each noise with
   * the returned bucket.
   */
  void sample(int n, long[] codes, DecodeParams params, DeviceChoices out);
}
