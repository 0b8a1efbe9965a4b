package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX was built from the committed kernel sources: the Maven build never runs nvcc,
 * so a kernel edit without a rebuild would otherwise ship stale PTX silently.
 * worker/src/main/cuda/build-ptx.sh writes cuda-sources.sha256 next to the PTX (the `sha256sum`
 * lines of every .cu/.cuh it compiled); this test recomputes the SHA-256 of the sources and fails,
 * naming the files, when they differ.
 */
class PtxSourcesHashTest {
  static final String SCRIPT = "worker/src/main/cuda/build-ptx.sh";
  private static final Path SOURCES = Path.of("src/main/cuda");
  private static final Path RECORDED =
      Path.of("src/main/resources/quasiroll/cuda/cuda-sources.sha256");

  @Test
  void committedPtxWasBuiltFromTheseKernelSources() throws IOException {
    assertTrue(
        Files.isDirectory(SOURCES),
        "run from the worker module: " + SOURCES.toAbsolutePath() + " is missing");
    assertTrue(
        Files.isRegularFile(RECORDED),
        RECORDED + " is missing: run " + SCRIPT + " and commit its output");
    List<String> problems = compare(recorded(RECORDED), current(SOURCES));
    if (!problems.isEmpty()) {
      fail(message(problems));
    }
  }

  @Test
  void anEditedAddedOrRemovedSourceIsReported(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("a.cu"), "__global__ void a() {}\n");
    Files.writeString(dir.resolve("b.cu"), "__global__ void b() {}\n");
    Path hashes = dir.resolve("cuda-sources.sha256");
    write(hashes, current(dir));
    assertEquals(List.of(), compare(recorded(hashes), current(dir)));

    Files.writeString(dir.resolve("a.cu"), "__global__ void a() { /* edited */ }\n");
    assertEquals(List.of("changed: a.cu"), compare(recorded(hashes), current(dir)));

    Files.writeString(dir.resolve("c.cuh"), "#pragma once\n");
    Files.delete(dir.resolve("b.cu"));
    List<String> problems = compare(recorded(hashes), current(dir));
    assertEquals(List.of("changed: a.cu", "removed: b.cu", "added: c.cuh"), problems);
    String message = message(problems);
    assertTrue(
        message.startsWith("kernel sources changed since the PTX was built: run " + SCRIPT),
        message);
  }

  @Test
  void aMalformedHashFileIsRefusedWithTheLine(@TempDir Path dir) throws IOException {
    Path hashes = dir.resolve("cuda-sources.sha256");
    Files.writeString(hashes, "not-a-hash  a.cu\n");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> recorded(hashes));
    assertTrue(e.getMessage().contains("not-a-hash  a.cu"), e.getMessage());
  }

  static String message(List<String> problems) {
    return "kernel sources changed since the PTX was built: run "
        + SCRIPT
        + " (needs nvcc) and commit the .ptx files with cuda-sources.sha256 ("
        + String.join("; ", problems)
        + ")";
  }

  /** Differences between the recorded and the current hashes, by file name in name order. */
  static List<String> compare(Map<String, String> recorded, Map<String, String> current) {
    List<String> problems = new ArrayList<>();
    TreeSet<String> names = new TreeSet<>(recorded.keySet());
    names.addAll(current.keySet());
    for (String name : names) {
      String was = recorded.get(name);
      String now = current.get(name);
      if (was == null) {
        problems.add("added: " + name);
      } else if (now == null) {
        problems.add("removed: " + name);
      } else if (!was.equals(now)) {
        problems.add("changed: " + name);
      }
    }
    return problems;
  }

  /** File name to lower-case hex SHA-256 of every .cu and .cuh file directly in {@code dir}. */
  static Map<String, String> current(Path dir) throws IOException {
    Map<String, String> hashes = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".cu") || name.endsWith(".cuh")) {
          hashes.put(name, sha256(Files.readAllBytes(f)));
        }
      }
    }
    return hashes;
  }

  /** Reads `sha256sum` output: "<64 hex> <name>" (or " *<name>", binary mode) per line. */
  static Map<String, String> recorded(Path file) throws IOException {
    Map<String, String> hashes = new TreeMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      if (!line.matches("[0-9a-f]{64} [ *].+")) {
        throw new IllegalStateException(
            file
                + ": not a sha256sum line: '"
                + line
                + "' (expected '<64 lower-case hex digits>  <file name>'; rerun "
                + SCRIPT
                + ")");
      }
      hashes.put(line.substring(66), line.substring(0, 64));
    }
    return hashes;
  }

  private static void write(Path file, Map<String, String> hashes) throws IOException {
    StringBuilder text = new StringBuilder();
    hashes.forEach((name, hash) -> text.append(hash).append("  ").append(name).append('\n'));
    Files.writeString(file, text);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
