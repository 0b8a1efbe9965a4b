package quasiroll.coordinator.sink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import quasiroll.v1.SampleResult;

/**
 * A job's JSONL file sink: one line per sample ({@link SampleJsonl}), written a whole group
 * at a time in index order when the group completes, so lines of one prompt are contiguous
 * and ordered; groups follow in completion order. Sort by (prompt_id, index) for a canonical
 * file.
 */
public final class JsonlSink implements AutoCloseable {
  private final Path path;
  private final BufferedWriter out;

  public JsonlSink(Path path) {
    this.path = path;
    try {
      Files.createDirectories(path.toAbsolutePath().getParent());
      this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open JSONL sink " + path, e);
    }
  }

  public Path path() {
    return path;
  }

  public void writeGroup(List<SampleResult> byIndex) {
    try {
      for (SampleResult r : byIndex) {
        out.write(SampleJsonl.line(r));
        out.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write JSONL sink " + path, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close JSONL sink " + path, e);
    }
  }
}
