package quasiroll.worker.load;

import java.nio.file.Files;
import java.nio.file.Path;
import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.runtime.DeviceSpec;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.SyntheticBackend;
import quasiroll.worker.runtime.cpu.CpuBackend;
import quasiroll.worker.runtime.cuda.CudaBackend;
import quasiroll.worker.tokenizer.SyntheticTokenizer;

/**
 * Turns a model spec (what users write after --model, and the id workers register under) into a
 * runnable backend and its tokenizer ({@link ModelHandle}): the synthetic model, or a model file's
 * weights ({@link LoadedModel}) on the CPU or CUDA backend. One switch on the spec's form; each
 * form has its own loader.
 */
public final class BackendLoader {
  /** The spec forms this build accepts, for error messages. */
  static final String ACCEPTED =
      MarkovModel.PREFIX
          + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N or "
          + LoadedModel.SUPPORTED_FORMATS;

  private BackendLoader() {}

  /**
   * @param modelSpec e.g. {@code synthetic:markov?vocab=64&seed=1}, a Hugging Face model directory
   *     or a .gguf file (Llama / Qwen2 architectures)
   * @param device where to run: "cpu", "cuda" / "cuda:N" (the CUDA backend; JCuda is loaded only
   *     then), "auto" = cpu for now; the synthetic model always runs on the CPU and ignores it
   * @param settings the worker settings of the configuration the node loaded
   */
  public static ModelHandle load(String modelSpec, String device, WorkerSettings settings) {
    if (modelSpec == null || modelSpec.isBlank()) {
      throw new BadInputException("no model given: expected " + ACCEPTED);
    }
    if (modelSpec.startsWith("synthetic:")) {
      MarkovModel m = MarkovModel.parse(modelSpec);
      return new ModelHandle(new SyntheticBackend(m), new SyntheticTokenizer(m.vocabSize()));
    }
    Path path = Path.of(modelSpec);
    if (!Files.exists(path)) {
      throw new BadInputException(
          "model '" + modelSpec + "' is not a form this build can load: expected " + ACCEPTED);
    }
    // The mapped weights stay valid after the file channels close.
    try (LoadedModel weights = ModelFiles.open(path)) {
      return new ModelHandle(backend(modelSpec, weights, device, settings), weights.tokenizer());
    }
  }

  /**
   * The weights of a real model spec (a HF directory or a GGUF file), mapped; the file channels are
   * closed (the mappings stay valid).
   */
  public static LoadedModel openWeights(String modelSpec) {
    if (modelSpec == null
        || modelSpec.isBlank()
        || modelSpec.startsWith("synthetic:")
        || !Files.exists(Path.of(modelSpec))) {
      throw new BadInputException(
          "model '"
              + modelSpec
              + "' has no weight files: expected "
              + LoadedModel.SUPPORTED_FORMATS);
    }
    LoadedModel weights = ModelFiles.open(Path.of(modelSpec));
    weights.close();
    return weights;
  }

  /**
   * A backend over weights already open (the start-up weights, or a policy version built on them by
   * {@code quasiroll.worker.policy.PolicyVersions}).
   *
   * @param id what the worker registers the model under
   * @param device as for {@link #load}
   */
  public static ModelBackend backend(
      String id, LoadedModel weights, String device, WorkerSettings settings) {
    DeviceSpec where =
        device == null || device.isBlank() || device.equals("auto")
            ? DeviceSpec.CPU
            : DeviceSpec.parse(device);
    if (where.isCuda()) {
      return CudaBackend.of(id, weights, where.index());
    }
    return CpuBackend.of(id, weights, settings.cpuThreads(), settings.memoryBudgetBytes());
  }
}
