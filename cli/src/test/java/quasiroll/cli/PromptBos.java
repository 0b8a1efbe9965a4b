package quasiroll.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.tokenizer.BpeTokenizer;

/**
 * Shared by the BOS tests of the CLI and cluster paths: HF fixtures in the two tokenizer
 * conventions (Llama 3: the post-processor template and {@code add_bos_token} prepend BOS; Qwen2:
 * no BOS), and the samples a text prompt must give, computed here from explicit token ids (which
 * the decoder takes as they are) with BOS prepended exactly where the convention says,
 * independently of the tokenizer's own policy.
 */
public final class PromptBos {
  public static final String TEXT = "The quick brown fox";
  public static final int K = 4;
  public static final int MAX_NEW = 5;
  public static final long SEED = 11;

  private PromptBos() {}

  /** A Llama 3 style (BOS) or Qwen2 style (no BOS) HF fixture directory under {@code dir}. */
  public static Path fixture(Path dir, boolean llama) throws IOException {
    TinyModelSpec spec = llama ? TinyModelSpec.llamaGqa(3) : TinyModelSpec.qwen2Tied(3);
    return HfFixtureWriter.write(
        TinyModel.generate(spec), dir.resolve(llama ? "llama" : "qwen"), DType.F32);
  }

  /** The prompt's ids with or without the model's BOS id first (Llama 3 wants it, Qwen2 not). */
  public static int[] ids(Path model, boolean bos) {
    ModelHandle h =
        BackendLoader.load(
            model.toString(), "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
    try {
      BpeTokenizer tok = (BpeTokenizer) h.tokenizer();
      int[] text = tok.encode(TEXT);
      if (!bos) {
        return text;
      }
      int[] ids = new int[text.length + 1];
      ids[0] = tok.bosId();
      System.arraycopy(text, 0, ids, 1, text.length);
      return ids;
    } finally {
      h.backend().close();
    }
  }

  public static SamplerSpec sampler() {
    return new SamplerSpec(CouplingKind.parse("lattice"), java.util.Map.of());
  }

  public static DecodeParams decode() {
    return new DecodeParams(
        1.0, 0, 1.0, 0.0, VocabOrder.parse("id"), MAX_NEW, List.of(), List.of());
  }

  /** The K samples of a prompt given as these token ids, by index. */
  public static List<SampleResult> samplesOfIds(Path model, int[] ids) {
    ModelHandle h =
        BackendLoader.load(
            model.toString(), "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
    List<SampleResult> out = new ArrayList<>();
    try (ShardDecoder d =
        new ShardDecoder(h.backend(), h.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(
          new ResolvedShard(
              "local",
              "prompt",
              null,
              ids,
              K,
              java.util.stream.IntStream.range(0, K).toArray(),
              sampler(),
              decode(),
              SEED),
          out::add,
          () -> false);
    } finally {
      h.backend().close();
    }
    out.sort(Comparator.comparingInt(SampleResult::getIndex));
    return out;
  }

  /**
   * What identifies a sample's content: its tokens and raw logprobs (the latter see the whole
   * prompt).
   */
  public static String content(List<Integer> tokens, List<Float> rawLogprobs) {
    return tokens + " " + rawLogprobs;
  }

  public static List<String> contents(List<SampleResult> samples) {
    return samples.stream().map(r -> content(r.getTokenIdsList(), r.getRawLogprobsList())).toList();
  }
}
