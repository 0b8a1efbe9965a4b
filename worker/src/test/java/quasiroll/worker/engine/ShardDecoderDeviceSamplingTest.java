package quasiroll.worker.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.SampleResult;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.DeviceSampling;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * The decode loop's DeviceSampling path (used by the CUDA backend) yields exactly the samples of
 * the host path: here the "device" is emulated on the host with the CPU sampler applied to a
 * code-only noise, so any difference would come from the loop's bookkeeping (row order, noise
 * advance, prompt-logits rows, released sequences).
 */
class ShardDecoderDeviceSamplingTest {
  private static final WorkerSettings SETTINGS = WorkerSettings.from(QuasirollConfig.load(null));

  private static final String SPEC = "synthetic:markov?vocab=40&seed=5&eos=0.05&sharpness=1.5";

  /** Wraps a backend so its sessions sample "on the device" (keeping logits to themselves). */
  private static final class EmulatedDevice implements ModelBackend {
    final ModelBackend inner;
    int deviceSamples;

    EmulatedDevice(ModelBackend inner) {
      this.inner = inner;
    }

    @Override
    public ModelInfo info() {
      return inner.info();
    }

    @Override
    public long sessionBytes(int p, int s, int t) {
      return inner.sessionBytes(p, s, t);
    }

    @Override
    public void close() {
      inner.close();
    }

    @Override
    public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
      DecodeSession s = inner.open(prompt, maxSequences, maxNewTokens);
      int v = inner.info().vocabSize();
      return new Session(s, v, maxSequences);
    }

    final class Session implements DecodeSession, DeviceSampling {
      final DecodeSession s;
      final int vocab;
      final float[] logits;
      boolean prompt = true;
      final CoupledTokenSampler sampler = new CoupledTokenSampler();

      Session(DecodeSession s, int vocab, int max) {
        this.s = s;
        this.vocab = vocab;
        this.logits = new float[max * vocab];
        System.arraycopy(s.promptLogits(), 0, logits, 0, vocab);
      }

      @Override
      public boolean samplesOnDevice(DecodeParams params) {
        return params.vocabOrder() == VocabOrder.ID;
      }

      @Override
      public void stepOnDevice(int[] sequences, int[] tokens, int n) {
        s.step(sequences, tokens, n, logits);
        prompt = false;
      }

      @Override
      public void sample(int n, long[] codes, DecodeParams params, DeviceChoices out) {
        for (int r = 0; r < n; r++) {
          long[] bucket = new long[2];
          long code = codes[r];
          SampleNoise only = new SampleNoise() { // what a device sees: the code, nothing else
                public long code() {
                  return code;
                }

                public void advance(long lo, long width) {
                  bucket[0] = lo;
                  bucket[1] = width;
                }

                public int position() {
                  throw new UnsupportedOperationException("device sampling sees codes only");
                }

                public long promptSeed() {
                  throw new UnsupportedOperationException("device sampling sees codes only");
                }

                public String note() {
                  return "";
                }
              };
          TokenChoice c = sampler.select(logits, prompt ? 0 : r * vocab, vocab, params, only);
          out.tokens()[r] = c.token();
          out.lo()[r] = bucket[0];
          out.width()[r] = bucket[1];
          out.rawLogprob()[r] = c.rawLogprob();
          out.processedLogprob()[r] = c.processedLogprob();
          deviceSamples++;
        }
      }

      @Override
      public float[] promptLogits() {
        throw new AssertionError("the device path must not fetch logits");
      }

      @Override
      public void step(int[] sequences, int[] tokens, int n, float[] out) {
        throw new AssertionError("the device path must not fetch logits");
      }

      @Override
      public int length(int sequence) {
        return s.length(sequence);
      }

      @Override
      public void release(int sequence) {
        s.release(sequence);
      }

      @Override
      public void close() {
        s.close();
      }
    }
  }

  private static Map<Integer, SampleResult> run(
      ModelBackend backend, Tokenizer tokenizer, String sampler, DecodeParams p, int k) {
    Map<Integer, SampleResult> out = new TreeMap<>();
    try (ShardDecoder d = new ShardDecoder(backend, tokenizer, CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(
          new ResolvedShard(
              "job",
              "prompt-1",
              "hello t0",
              new int[0],
              k,
              IntStream.range(0, k).toArray(),
              SamplerSpec.of(sampler),
              p,
              77),
          r -> out.put(r.getIndex(), r),
          () -> false);
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"iid", "lattice"})
  void deviceSamplingGivesTheHostPathsSamples(String sampler) {
    var m = BackendLoader.load(SPEC, "cpu", SETTINGS);
    DecodeParams p =
        new DecodeParams(
            0.9, 20, 0.95, 0.01, VocabOrder.ID, 25, java.util.List.of(), java.util.List.of());
    int k = 12;
    Map<Integer, SampleResult> host = run(m.backend(), m.tokenizer(), sampler, p, k);
    EmulatedDevice device = new EmulatedDevice(m.backend());
    Map<Integer, SampleResult> onDevice = run(device, m.tokenizer(), sampler, p, k);
    assertEquals(k, host.size());
    assertEquals(host, onDevice);
    assertTrue(device.deviceSamples >= k, "the decoder did not use the device path");
  }
}
