package quasiroll.worker.load;

import java.nio.file.Files;
import java.nio.file.Path;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.gguf.GgufModelLoader;
import quasiroll.worker.model.hf.HfModelLoader;

/**
 * Opens a model file's weights and tokenizer ({@link LoadedModel}) by its format: a HF model
 * directory or a GGUF file. It sits above the format packages (model.hf, model.gguf), which build a
 * {@link LoadedModel}, so the model package does not depend on them.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** Opens a HF model directory or a GGUF file. */
  public static LoadedModel open(Path path) {
    if (!Files.exists(path)) {
      throw new BadInputException(
          "model path '"
              + path
              + "' does not exist (expected "
              + LoadedModel.SUPPORTED_FORMATS
              + ")");
    }
    if (Files.isDirectory(path)) {
      return HfModelLoader.load(path);
    }
    if (path.getFileName().toString().endsWith(".gguf")) {
      return GgufModelLoader.load(path);
    }
    throw new BadInputException(
        "model path '"
            + path
            + "' is neither a directory nor a .gguf file (expected "
            + LoadedModel.SUPPORTED_FORMATS
            + ")");
  }
}
