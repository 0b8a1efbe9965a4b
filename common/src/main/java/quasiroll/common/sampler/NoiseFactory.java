package quasiroll.common.sampler;

/**
 * Opens the noise of sample {@code index} of a group of {@code k} under a coupling. A pure function
 * of its arguments: any worker computes the same noise with no communication.
 */
public interface NoiseFactory {
  SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k);
}
