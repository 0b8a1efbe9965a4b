package quasiroll.coordinator.paths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import quasiroll.common.error.BadInputException;

/**
 * Client-given paths under the coordinator's directories (prompt files, sinks, policy sources):
 * relative, without "..", and not leading out through a link.
 */
public final class DataPaths {
  private DataPaths() {}

  /** {@code relative} resolved inside {@code root}; absolute paths and escapes are refused. */
  public static Path inside(Path root, String relative, String field) {
    Path p;
    try {
      p = Path.of(relative);
    } catch (RuntimeException e) {
      throw new BadInputException(field + " '" + relative + "' is not a valid path");
    }
    if (p.isAbsolute() || relative.contains("..")) {
      throw new BadInputException(
          field
              + " '"
              + relative
              + "' is outside "
              + root
              + ": expected a relative path without '..'");
    }
    Path resolved = root.resolve(p).normalize();
    if (!resolved.startsWith(root)) {
      throw new BadInputException(field + " '" + relative + "' is outside " + root);
    }
    try {
      if (Files.exists(resolved) && !resolved.toRealPath().startsWith(root.toRealPath())) {
        throw new BadInputException(
            field + " '" + relative + "' leads outside " + root + " through a link");
      }
    } catch (IOException e) {
      throw new BadInputException(
          field + " '" + relative + "' cannot be resolved: " + e.getMessage());
    }
    return resolved;
  }
}
