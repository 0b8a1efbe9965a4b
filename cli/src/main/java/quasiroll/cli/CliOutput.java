package quasiroll.cli;

import java.io.BufferedWriter;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a command's {@code --out} goes: the named file, or standard output when absent. */
final class CliOutput {
  private CliOutput() {}

  /**
   * A buffered UTF-8 writer to {@code out}, or to standard output when {@code out} is null. Closing
   * the standard-output writer only flushes it: System.out stays usable afterwards.
   */
  static Writer writer(Path out) throws IOException {
    if (out != null) {
      return Files.newBufferedWriter(out, StandardCharsets.UTF_8);
    }
    return new FilterWriter(
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8))) {
      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}
