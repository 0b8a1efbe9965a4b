package quasiroll.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A live progress line on stderr: prompts done/total, samples/s, tokens/s, ETA. On a terminal it
 * redraws one line (carriage return) at most 5 times a second; otherwise it prints a plain line
 * every 5 seconds, so logs stay readable.
 */
final class ProgressLine {
  private final PrintStream err;
  private final boolean tty;
  private final long startNanos = System.nanoTime();
  private long lastPrint;

  ProgressLine(PrintStream err, boolean tty) {
    this.err = err;
    this.tty = tty;
  }

  void update(int promptsDone, int promptsTotal, long samples, long tokens, boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastPrint < (tty ? 200_000_000L : 5_000_000_000L)) {
      return;
    }
    lastPrint = now;
    double secs = Math.max(1e-9, (now - startNanos) / 1e9);
    double frac = promptsTotal == 0 ? 0 : (double) promptsDone / promptsTotal;
    String eta = frac <= 0 ? "?" : String.format(Locale.ROOT, "%.0fs", secs * (1 - frac) / frac);
    String line =
        String.format(
            Locale.ROOT,
            "prompts %d/%d  %.0f samples/s  %.0f tokens/s  ETA %s",
            promptsDone,
            promptsTotal,
            samples / secs,
            tokens / secs,
            eta);
    if (tty) {
      err.print("\r" + line + "\u001b[K");
    } else {
      err.println(line);
    }
    err.flush();
  }

  void finish() {
    if (tty) {
      err.println();
    }
  }
}
