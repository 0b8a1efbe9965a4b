package quasiroll.cli;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Finds every repository path written in a Markdown text (a word that starts with one of the
 * checkout's top-level folders, e.g. {@code worker/src/main/cuda/build-ptx.sh}) and checks that it
 * names something that exists, so a moved file cannot leave a stale reference behind. {@code ...}
 * stands for any run of folders, {@code *} is a glob inside one name, a trailing {@code /} is
 * ignored, and a class named without {@code .java} ({@code .../JobTest}) matches its source file.
 * Build outputs ({@code target/}) and words with placeholders ({@code <N>}) are not checked.
 */
final class DocsPathChecker {
  /** One stale path: where and what. */
  record Problem(String source, int line, String path) {
    @Override
    public String toString() {
      return source + ":" + line + ": `" + path + "` does not exist";
    }
  }

  private final Set<String> tops;
  private final List<Path> existing;
  private final Pattern word;

  /** {@code existing}: every file and folder of the checkout, relative to its root. */
  DocsPathChecker(Set<String> tops, List<Path> existing) {
    this.tops = tops;
    this.existing = existing;
    String alternatives = tops.stream().map(Pattern::quote).collect(Collectors.joining("|"));
    this.word = Pattern.compile("(?<![\\w./-])((?:" + alternatives + ")/[\\w./*{},-]*)");
  }

  /** The checker for a checkout: its top-level folders and everything under them. */
  static DocsPathChecker of(Path root) throws IOException {
    Set<String> tops;
    try (Stream<Path> s = Files.list(root)) {
      tops =
          s.filter(Files::isDirectory)
              .map(p -> p.getFileName().toString())
              .filter(n -> !n.startsWith(".") && !n.equals("out") && !n.equals("target"))
              .collect(Collectors.toSet());
    }
    List<Path> existing;
    try (Stream<Path> s = Files.walk(root)) {
      existing =
          s.map(root::relativize)
              .filter(p -> !p.toString().isEmpty())
              .filter(
                  p ->
                      !p.getName(0).toString().startsWith(".")
                          && !p.getName(0).toString().equals("out"))
              .filter(
                  p -> {
                    for (Path part : p) {
                      if (part.toString().equals("target")
                          || part.toString().equals("node_modules")) {
                        return false;
                      }
                    }
                    return true;
                  })
              .toList();
    }
    return new DocsPathChecker(tops, existing);
  }

  List<Problem> check(String source, String markdown) {
    List<Problem> problems = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      Matcher m = word.matcher(lines[i]);
      while (m.find()) {
        String path = m.group(1).replaceAll("[.,;:]+$", "");
        if (path.contains("/target/") || path.endsWith("/target") || path.contains("<")) {
          continue;
        }
        if (!exists(path)) {
          problems.add(new Problem(source, i + 1, path));
        }
      }
    }
    return problems;
  }

  private boolean exists(String written) {
    String glob = written.replaceAll("/+$", "").replace("...", "**");
    List<PathMatcher> matchers = new ArrayList<>();
    for (String g : List.of(glob, glob + ".java")) {
      matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + g));
    }
    for (Path p : existing) {
      for (PathMatcher matcher : matchers) {
        if (matcher.matches(p)) {
          return true;
        }
      }
    }
    return false;
  }

  Set<String> tops() {
    return tops;
  }
}
