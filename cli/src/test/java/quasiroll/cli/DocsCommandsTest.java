package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ./quasiroll <command> [subcommand] --flag} written in README.md and docs/**&#47;*.md
 * exists in the CLI (picocli's model of {@link Main}), so the manual cannot drift from the code;
 * every repository path they name exists, so a moved file cannot leave a stale reference; and each
 * checker catches what it is for on a small text.
 */
class DocsCommandsTest {
  @Test
  void everyCommandAndFlagInTheReadmeAndDocsExists() throws IOException {
    Path root = repositoryRoot();
    List<Path> pages = pages(root);
    DocsCommandChecker checker = new DocsCommandChecker(Main.commandLine());
    List<DocsCommandChecker.Problem> problems = new ArrayList<>();
    for (Path page : pages) {
      problems.addAll(checker.check(root.relativize(page).toString(), Files.readString(page)));
    }
    assertEquals(
        "",
        problems.stream().map(Object::toString).collect(Collectors.joining("\n")),
        "commands in the docs that the CLI does not have");
    // The README alone shows demo, sample, submit, sweep and tasks: a scan that finds almost
    // nothing is a broken scan, not clean docs.
    assertTrue(
        checker.seen().size() >= 40,
        "only " + checker.seen().size() + " commands found: " + checker.seen());
    for (String command :
        List.of(
            "demo",
            "sample",
            "submit",
            "sweep",
            "points",
            "inspect",
            "fixture",
            "coordinator",
            "worker",
            "status",
            "cancel",
            "tasks generate",
            "tasks verify")) {
      assertTrue(
          checker.seen().stream()
              .anyMatch(c -> c.matches("(\\./)?quasiroll " + command + "( .*)?")),
          "the docs never show `quasiroll " + command + "`");
    }
  }

  @Test
  void anInventedCommandOrFlagIsReported() {
    DocsCommandChecker checker = new DocsCommandChecker(Main.commandLine());
    String text =
        String.join(
            "\n",
            "Run `./quasiroll sample --model m -k 8 --bogus-flag 3` to see.",
            "```bash",
            "./quasiroll tasks generate --task countdown --n 3 --seed 5 --out p.jsonl   #"
                + " --ignored-comment",
            "./quasiroll sample --model 'synthetic:markov?vocab=4&seed=1' -k 8 \\",
            "    --max-new-tokens 16 --invented-option x | head --lines 3",
            "./quasiroll tasks frobnicate --n 3",
            "./quasiroll nosuchcommand",
            "quasiroll points --sampler sobol --n=4 [--dims 3] --randomize none > out.csv",
            "```",
            "In prose, quasiroll keeps --whatever it likes; `quasiroll inspect --nope SPEC` does"
                + " not.");
    List<String> found = checker.check("t.md", text).stream().map(Object::toString).toList();
    assertEquals(5, found.size(), String.join("\n", found));
    assertTrue(
        found
            .get(0)
            .startsWith(
                "t.md:1: `./quasiroll sample --model m -k 8 --bogus-flag 3`: unknown option"
                    + " --bogus-flag for 'quasiroll sample' (accepted: "),
        found.get(0));
    assertTrue(
        found.get(1).startsWith("t.md:4: ")
            && found.get(1).contains("unknown option --invented-option"),
        found.get(1));
    assertTrue(
        found.get(2).startsWith("t.md:6: ")
            && found
                .get(2)
                .contains(
                    "unknown command 'frobnicate' after"
                        + " 'quasiroll tasks' (commands: generate, verify)"),
        found.get(2));
    assertTrue(
        found.get(3).startsWith("t.md:7: ")
            && found.get(3).contains("unknown command 'nosuchcommand'"),
        found.get(3));
    assertTrue(
        found.get(4).startsWith("t.md:10: ")
            && found.get(4).contains("unknown option --nope for" + " 'quasiroll inspect'"),
        found.get(4));
    assertEquals(7, checker.seen().size(), checker.seen().toString());
  }

  @Test
  void everyRepositoryPathInTheMarkdownFilesExists() throws IOException {
    Path root = repositoryRoot();
    DocsPathChecker checker = DocsPathChecker.of(root);
    List<DocsPathChecker.Problem> problems = new ArrayList<>();
    List<Path> pages;
    try (Stream<Path> all = Files.walk(root)) {
      // Every Markdown file of the checkout (module READMEs, TRAINING.md, ...), not build output
      // nor installed npm packages (clients/node-openai-test/node_modules, from `npm ci`).
      pages =
          all.filter(p -> p.toString().endsWith(".md"))
              .filter(
                  p -> {
                    String first = root.relativize(p).getName(0).toString();
                    String rel = root.relativize(p).toString();
                    return !first.startsWith(".")
                        && !first.equals("out")
                        && !rel.contains("target/")
                        && !rel.contains("node_modules/");
                  })
              .sorted()
              .toList();
    }
    assertTrue(pages.contains(root.resolve("docs/ARCHITECTURE.md")), pages.toString());
    for (Path page : pages) {
      problems.addAll(checker.check(root.relativize(page).toString(), Files.readString(page)));
    }
    assertEquals(
        "",
        problems.stream().map(Object::toString).collect(Collectors.joining("\n")),
        "paths in the docs that are not in the checkout (moved or renamed?)");
  }

  @Test
  void aStalePathIsReported() {
    DocsPathChecker checker =
        new DocsPathChecker(
            Set.of("deploy", "worker"),
            List.of(
                Path.of("deploy"),
                Path.of("deploy/local"),
                Path.of("deploy/local/start-cluster.sh"),
                Path.of("worker"),
                Path.of("worker/src/test/java/quasiroll/worker/JobTest.java")));
    String text =
        String.join(
            "\n",
            "Run `deploy/local/start-cluster.sh`, then deploy/local/ and `deploy/local/*.sh`.",
            "Tests: `worker/.../JobTest`, `worker/.../*Test`; built into worker/target/x.jar.",
            "Moved: `deploy/gpu/build-ptx.sh`, and deploy/train-demo-model.sh.",
            "A placeholder `deploy/<name>` and an unrelated my-deploy/x are not paths.");
    List<String> found = checker.check("t.md", text).stream().map(Object::toString).toList();
    assertEquals(
        List.of(
            "t.md:3: `deploy/gpu/build-ptx.sh` does not exist",
            "t.md:3: `deploy/train-demo-model.sh` does not exist"),
        found);
  }

  private static List<Path> pages(Path root) throws IOException {
    List<Path> pages = new ArrayList<>();
    pages.add(root.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    return pages;
  }

  /** The checkout's root: the cli module runs its tests in cli/. */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md"))
          && Files.isRegularFile(p.resolve("quasiroll"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "no quasiroll checkout (README.md + quasiroll launcher) above " + dir);
  }
}
