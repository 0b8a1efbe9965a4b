package quasiroll.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/** {@code quasiroll fixture OUT}: writes a tiny random-weight model for tests and benchmarks. */
@Command(
    name = "fixture",
    mixinStandardHelpOptions = true,
    description = {
      "Write a tiny random-weight model (with a real byte-level BPE tokenizer learned from",
      "built-in text) as a HF directory or a GGUF file. The same --preset and --seed give the",
      "same weights in both formats, so HF and GGUF loads can be compared."
    })
public final class FixtureCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "OUT",
      description = "Output: a directory for --format hf, a .gguf file for --format gguf.")
  Path out;

  @Option(
      names = "--preset",
      defaultValue = "llama",
      description =
          "llama (GQA 4:2, untied), qwen2 (q/k/v biases, tied, GQA 4:1), "
              + "llama-rope-scaled (llama3 rope scaling) (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(
      names = "--format",
      defaultValue = "gguf",
      description = "hf or gguf (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--dtype",
      defaultValue = "F32",
      description =
          "Matrix dtype: F32, F16, BF16 (hf, gguf), Q8_0, Q4_0, Q4_K, Q6_K (gguf only; K-quants"
              + " need rows that are a multiple of 256) (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Weight seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    TinyModelSpec spec =
        switch (preset) {
          case "llama" -> TinyModelSpec.llamaGqa(seed);
          case "qwen2" -> TinyModelSpec.qwen2Tied(seed);
          case "llama-rope-scaled" -> TinyModelSpec.llamaRopeScaled(seed);
          default ->
              throw new BadInputException(
                  "--preset '" + preset + "' is not one of llama, qwen2, llama-rope-scaled");
        };
    DType dt;
    try {
      dt = DType.valueOf(dtype.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          "--dtype '" + dtype + "' is not one of F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K");
    }
    TinyModel model = TinyModel.generate(spec);
    switch (format) {
      case "hf" -> {
        if (dt.blockSize() > 1) {
          throw new BadInputException(
              "--dtype " + dt + " needs --format gguf (safetensors: F32, F16, BF16)");
        }
        HfFixtureWriter.write(model, out, dt);
      }
      case "gguf" -> GgufFixtureWriter.write(model, out, dt);
      default -> throw new BadInputException("--format '" + format + "' is not one of hf, gguf");
    }
    System.out.println("wrote " + out);
    return 0;
  }
}
