package quasiroll.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelInspection;

/** {@code quasiroll inspect MODEL}: what a model is and what a k-sample job of it needs. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Describe a model: architecture, parameter count, dtypes, context length, tokenizer,",
      "KV-cache bytes per token, and the memory a k-sample job needs against the configured",
      "budget (quasiroll.worker.memory-budget-bytes)."
    })
public final class InspectCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "MODEL",
      description = "A HF model directory (config.json, tokenizer.json, *.safetensors) or a .gguf file.")
  String model;

  @Option(names = {"-k", "--samples"}, defaultValue = "16",
      description = "Samples per prompt of the job to size (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--prompt-tokens", defaultValue = "512",
      description = "Prompt length in tokens of the job to size (default: ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(names = "--max-new-tokens", defaultValue = "512",
      description = "New tokens per sample of the job to size (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--config", paramLabel = "FILE",
      description = "A HOCON file overriding reference.conf (for the memory budget).")
  Path config;

  @Override
  public Integer call() {
    if (k < 1 || promptTokens < 1 || maxNewTokens < 0) {
      throw new BadInputException(
          "-k " + k + ", --prompt-tokens " + promptTokens + ", --max-new-tokens " + maxNewTokens
              + ": k and prompt tokens must be >= 1, new tokens >= 0");
    }
    if (model.startsWith("synthetic:")) {
      throw new BadInputException(
          "model '" + model + "': synthetic models are described by the synthetic-model loader,"
              + " which this build lacks; give a HF model directory or a .gguf file");
    }
    long budget = QuasirollConfig.load(config).getBytes("quasiroll.worker.memory-budget-bytes");
    try (LoadedModel m = LoadedModel.open(Path.of(model))) {
      ModelInspection.report(m, k, promptTokens, maxNewTokens, budget).forEach(System.out::println);
    }
    return 0;
  }
}
