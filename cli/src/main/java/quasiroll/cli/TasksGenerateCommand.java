package quasiroll.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskPrompt;
import quasiroll.common.task.TaskPromptJsonl;
import quasiroll.common.task.registry.TaskGenerators;

/** {@code quasiroll tasks generate}: seeded task instances as a prompts JSONL file. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Writes n seeded instances of a task as JSONL, one per line:",
      "  {\"id\":...,\"prompt\":...,\"metadata\":{...},\"reference\":...}",
      "Instance i depends only on (seed, i, params): the same command gives the same file."
    })
public final class TasksGenerateCommand implements Callable<Integer> {
  @Option(
      names = "--task",
      required = true,
      description = "Generator: countdown, maze, sudoku, arithmetic (exact-answer word problems).")
  String task;

  @Option(
      names = "--n",
      defaultValue = "100",
      description = "Number of instances (default ${DEFAULT-VALUE}).")
  int n;

  @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--param",
      description = {
        "Generator parameter KEY=VALUE, repeatable. countdown: count, max, max_target;",
        "maze: rows, cols, walls (percent), min_moves; sudoku: size (4|9), blanks;",
        "arithmetic: terms, max. See docs/tasks.md for defaults."
      })
  List<String> params = List.of();

  @Option(names = "--out", description = "Output file (default: standard output).")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (n < 0) {
      throw new BadInputException("--n=" + n + " must be >= 0");
    }
    Map<String, String> p = new LinkedHashMap<>();
    for (String kv : params) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new BadInputException("--param '" + kv + "' is not KEY=VALUE, e.g. --param count=4");
      }
      p.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    List<TaskPrompt> prompts = TaskGenerators.forName(task, p).generate(seed, n);
    try (Writer w = CliOutput.writer(out)) {
      TaskPromptJsonl.write(prompts, w);
    }
    return 0;
  }
}
