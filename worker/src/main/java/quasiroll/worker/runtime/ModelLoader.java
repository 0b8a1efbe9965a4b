package quasiroll.worker.runtime;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.worker.runtime.cpu.CpuBackend;
import quasiroll.worker.runtime.cuda.CudaBackend;
import quasiroll.worker.tokenizer.SyntheticTokenizer;

/**
 * Turns a model spec (what users write after --model, and the id workers register under)
 * into a {@link ModelHandle}. One switch on the spec's form; each form has its own loader.
 */
public final class ModelLoader {
  /** The spec forms this build accepts, for error messages. */
  static final String ACCEPTED = MarkovModel.PREFIX + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N or "
      + quasiroll.worker.model.LoadedModel.SUPPORTED_FORMATS;

  private ModelLoader() {}

  /**
   * @param modelSpec e.g. {@code synthetic:markov?vocab=64&seed=1}, a Hugging Face model
   *     directory or a .gguf file (Llama / Qwen2 architectures)
   * @param device where to run: "cpu", "cuda" / "cuda:N" (the CUDA backend; JCuda is loaded
   *     only then), "auto" = cpu for now; the synthetic model always runs on the CPU and
   *     ignores it
   */
  public static ModelHandle load(String modelSpec, String device) {
    if (modelSpec == null || modelSpec.isBlank()) {
      throw new BadInputException("no model given: expected " + ACCEPTED);
    }
    if (modelSpec.startsWith("synthetic:")) {
      MarkovModel m = MarkovModel.parse(modelSpec);
      return new ModelHandle(new SyntheticBackend(m), new SyntheticTokenizer(m.vocabSize()));
    }
    Path path = Path.of(modelSpec);
    if (!Files.exists(path)) {
      throw new BadInputException("model '" + modelSpec + "' is not a form this build can load: expected " + ACCEPTED);
    }
    // The mapped weights stay valid after the file channels close.
    try (quasiroll.worker.model.LoadedModel weights =
        quasiroll.worker.model.LoadedModel.open(path)) {
      return new ModelHandle(backend(modelSpec, weights, device), weights.tokenizer());
    }
  }

  /**
   * The weights of a real model spec (a HF directory or a GGUF file), mapped; the file
   * channels are closed (the mappings stay valid).
   */
  public static quasiroll.worker.model.LoadedModel openWeights(String modelSpec) {
    if (modelSpec == null || modelSpec.isBlank() || modelSpec.startsWith("synthetic:")
        || !Files.exists(Path.of(modelSpec))) {
      throw new BadInputException("model '" + modelSpec + "' has no weight files: expected "
          + quasiroll.worker.model.LoadedModel.SUPPORTED_FORMATS);
    }
    quasiroll.worker.model.LoadedModel weights =
        quasiroll.worker.model.LoadedModel.open(Path.of(modelSpec));
    weights.close();
    return weights;
  }

  /**
   * A backend over weights already open (the start-up weights, or a policy version built on
   * them by {@code quasiroll.worker.policy.PolicyVersions}).
   *
   * @param id what the worker registers the model under
   * @param device as for {@link #load}
   */
  public static ModelBackend backend(String id, quasiroll.worker.model.LoadedModel weights, String device) {
    DeviceSpec where = device == null || device.isBlank() || device.equals("auto")
        ? DeviceSpec.CPU : DeviceSpec.parse(device);
    if (where.isCuda()) {
      return CudaBackend.of(id, weights, where.index());
    }
    Config config = QuasirollConfig.load(null);
    int threads = config.getInt("quasiroll.worker.cpu-threads");
    if (threads < 0) {
      throw new BadInputException("quasiroll.worker.cpu-threads is " + threads
          + "; expected 0 (all processors) or a positive thread count");
    }
    return CpuBackend.of(id, weights,
        threads == 0 ? Runtime.getRuntime().availableProcessors() : threads,
        config.getBytes("quasiroll.worker.memory-budget-bytes"));
  }
}
