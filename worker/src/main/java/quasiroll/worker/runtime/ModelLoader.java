package quasiroll.worker.runtime;

import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.worker.tokenizer.SyntheticTokenizer;

/**
 * Turns a model spec (what users write after --model, and the id workers register under)
 * into a {@link ModelHandle}. One switch on the spec's form; each form has its own loader.
 */
public final class ModelLoader {
  /** The spec forms this build accepts, for error messages. */
  static final String ACCEPTED = MarkovModel.PREFIX + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N";

  private ModelLoader() {}

  /**
   * @param modelSpec e.g. {@code synthetic:markov?vocab=64&seed=1}
   * @param device where to run ("cpu", "cuda:0", "auto"); the synthetic model always runs on
   *     the CPU and ignores it
   */
  public static ModelHandle load(String modelSpec, String device) {
    if (modelSpec == null || modelSpec.isBlank()) {
      throw new BadInputException("no model given: expected " + ACCEPTED);
    }
    if (modelSpec.startsWith("synthetic:")) {
      MarkovModel m = MarkovModel.parse(modelSpec);
      return new ModelHandle(new SyntheticBackend(m), new SyntheticTokenizer(m.vocabSize()));
    }
    // Switch point for the weight loaders: Hugging Face model directories (config.json +
    // *.safetensors + tokenizer.json) and .gguf files are dispatched here, each choosing the
    // CPU or CUDA backend from `device`; extend ACCEPTED with each form added.
    throw new BadInputException("model '" + modelSpec + "' is not a form this build can load: expected " + ACCEPTED);
  }
}
