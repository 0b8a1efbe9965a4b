package quasiroll.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import quasiroll.common.error.BadInputException;

/** Maps a failed call to the CLI's errors: INVALID_ARGUMENT and NOT_FOUND are bad input. */
final class GrpcErrors {
  private GrpcErrors() {}

  static RuntimeException translate(StatusRuntimeException e, String coordinator) {
    Status.Code c = e.getStatus().getCode();
    String d = e.getStatus().getDescription();
    return switch (c) {
      case INVALID_ARGUMENT, NOT_FOUND -> new BadInputException(d);
      case UNAVAILABLE ->
          new IllegalStateException("coordinator " + coordinator + " is unreachable: " + d);
      case UNAUTHENTICATED ->
          new BadInputException(d + " (give --token-file or set QUASIROLL_AUTH_TOKEN)");
      default -> new IllegalStateException(c + ": " + d);
    };
  }
}
