package quasiroll.sweep;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Facts about how a sweep ran, for the report.
 *
 * @param runner where jobs ran ({@link RolloutRunner#describe()})
 * @param jobsRun jobs run by this invocation (the others came from the output directory)
 * @param jobsTotal jobs of the sweep
 * @param wallMillis wall time of this invocation's jobs
 * @param samples samples the whole sweep drew
 * @param tokens tokens the whole sweep generated
 */
public record RunInfo(
    String runner, int jobsRun, int jobsTotal, long wallMillis, long samples, long tokens) {
  /** CPU model and core count of this machine, e.g. "AMD EPYC, 2 cores". */
  public static String machine() {
    String model = "unknown CPU";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          model = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      model = System.getProperty("os.arch");
    }
    return String.format(
        Locale.ROOT, "%s, %d cores", model, Runtime.getRuntime().availableProcessors());
  }
}
