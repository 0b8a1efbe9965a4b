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
    DeviceSpec where = device == null || device.isBlank() || device.equals("auto")
        ? DeviceSpec.CPU : DeviceSpec.parse(device);
    // The mapped weights stay valid after the file channels close.
    try (quasiroll.worker.model.LoadedModel weights =
        quasiroll.worker.model.LoadedModel.open(path)) {
      if (where.isCuda()) {
        return new ModelHandle(CudaBackend.of(modelSpec, weights, where.index()), weights.tokenizer());
      }
      Config config = QuasirollConfig.load(null);
      int threads = config.getInt("quasiroll.worker.cpu-threads");
      if (threads < 0) {
        throw new BadInputException("quasiroll.worker.cpu-threads is " + threads
            + "; expected 0 (all processors) or a positive thread count");
      }
      ModelBackend backend = CpuBackend.of(modelSpec, weights,
          threads == 0 ? Runtime.getRuntime().availableProcessors() : threads,
          config.getBytes("quasiroll.worker.memory-budget-bytes"));
      return new ModelHandle(backend, weights.tokenizer());
    }
  }
}
