package quasiroll.worker.runtime.cuda;

import quasiroll.common.error.BadInputException;

/**
 * A CUDA device was asked for ({@code --device cuda:N}) but cannot be used here: the message says
 * what is missing (driver library, device, JCuda natives for this platform) and that {@code
 * --device cpu} works without any of it.
 */
public final class CudaUnavailableException extends BadInputException {
  public CudaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
