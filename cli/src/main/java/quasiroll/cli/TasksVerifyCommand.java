package quasiroll.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskPrompt;
import quasiroll.common.task.TaskPromptJsonl;
import quasiroll.common.task.Verifier;
import quasiroll.common.task.registry.Verifiers;

/** {@code quasiroll tasks verify}: scores completions with their prompts' verifiers. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Scores completions against a prompts JSONL file (as 'tasks generate' writes it).",
      "Completions file: JSONL lines {\"id\": <prompt id>, \"completion\": <text>}",
      "(\"prompt_id\" and \"text\" are accepted too, as in quasiroll's sample results).",
      "Prints one line per task: task, completions, mean reward (= pass@1 for 0/1 rewards)."
    })
public final class TasksVerifyCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--prompts", required = true, description = "Prompts JSONL file.")
  Path promptsPath;

  @Option(names = "--completions", required = true, description = "Completions JSONL file.")
  Path completionsPath;

  @Option(names = "--out", description = "Optional JSONL of {\"id\", \"reward\"} per completion.")
  Path out;

  @Override
  public Integer call() throws IOException {
    Map<String, TaskPrompt> prompts = new HashMap<>();
    Map<String, Verifier> verifiers = new HashMap<>();
    try (BufferedReader in = open(promptsPath, "--prompts")) {
      for (TaskPrompt p : TaskPromptJsonl.read(in, promptsPath.toString())) {
        prompts.put(p.id(), p);
        verifiers.put(p.id(), Verifiers.forPrompt(p.id(), p.text(), p.metadata()));
      }
    }
    Map<String, double[]> byTask = new TreeMap<>(); // task -> {count, reward sum}
    try (BufferedReader in = open(completionsPath, "--completions");
        Writer rewards =
            out == null
                ? Writer.nullWriter()
                : Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        String where = completionsPath + ":" + lineNo;
        JsonNode o = parse(line, where);
        String id = text(o, "id", "prompt_id", where);
        String completion = text(o, "completion", "text", where);
        TaskPrompt prompt = prompts.get(id);
        if (prompt == null) {
          throw new BadInputException(where + ": prompt id '" + id + "' is not in " + promptsPath);
        }
        double r = verifiers.get(id).reward(completion);
        double[] acc =
            byTask.computeIfAbsent(prompt.metadata().get(Verifiers.TASK_KEY), t -> new double[2]);
        acc[0]++;
        acc[1] += r;
        rewards.write(JSON.writeValueAsString(Map.of("id", id, "reward", r)) + "\n");
      }
    }
    PrintWriter stdout = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    stdout.println("task\tcompletions\tmean_reward");
    byTask.forEach(
        (task, acc) -> stdout.printf("%s\t%d\t%.4f%n", task, (long) acc[0], acc[1] / acc[0]));
    return 0;
  }

  private static BufferedReader open(Path path, String flag) throws IOException {
    try {
      return Files.newBufferedReader(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new BadInputException(flag + " " + path + ": no such file");
    }
  }

  private static JsonNode parse(String line, String where) {
    try {
      JsonNode o = JSON.readTree(line);
      if (o != null && o.isObject()) {
        return o;
      }
    } catch (IOException e) {
      // reported below
    }
    throw new BadInputException(where + ": expected a JSON object {\"id\":...,\"completion\":...}");
  }

  private static String text(JsonNode o, String name, String alias, String where) {
    for (String key : List.of(name, alias)) {
      if (o.path(key).isTextual()) {
        return o.get(key).asText();
      }
    }
    throw new BadInputException(
        where + ": missing string field \"" + name + "\" (or \"" + alias + "\")");
  }
}
