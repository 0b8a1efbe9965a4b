package quasiroll.common.task.custom;

/** The external reward service failed or broke the protocol (not a wrong answer). */
public final class RewardServiceException extends RuntimeException {
  public RewardServiceException(String message) {
    super(message);
  }

  public RewardServiceException(String message, Throwable cause) {
    super(message, cause);
  }
}
