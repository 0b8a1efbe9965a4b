package quasiroll.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads quasiroll's HOCON configuration. Precedence, highest first: {@code -D} system properties,
 * {@code CONFIG_FORCE_*} environment variables, the optional user file, then the defaults in {@code
 * reference.conf} (which documents every key).
 */
public final class QuasirollConfig {
  private QuasirollConfig() {}

  /**
   * @param userFile a HOCON file given with {@code --config}, or null for none
   */
  public static Config load(Path userFile) {
    Config user = ConfigFactory.empty();
    if (userFile != null) {
      if (!Files.isRegularFile(userFile)) {
        throw new IllegalArgumentException(
            "config file '" + userFile + "' does not exist or is not a regular file");
      }
      user = ConfigFactory.parseFile(userFile.toFile());
    }
    ConfigFactory.invalidateCaches();
    return ConfigFactory.systemProperties()
        .withFallback(ConfigFactory.systemEnvironmentOverrides())
        .withFallback(user)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
