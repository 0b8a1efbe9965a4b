package quasiroll.common.error;

/**
 * Bad input from a user: a flag, a file, a job spec. The message alone is shown to the user (no
 * stack trace), so it must name the bad value and say what would be accepted. The CLI maps it to
 * exit code 2; the coordinator to gRPC INVALID_ARGUMENT.
 */
public class BadInputException extends RuntimeException {
  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
