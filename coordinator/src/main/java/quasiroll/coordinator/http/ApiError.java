package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answered the OpenAI way: HTTP status plus {@code {"error": {"message", "type", "param",
 * "code"}}}. {@code param} names the request field at fault (null when none); {@code
 * retryAfterSeconds} > 0 adds a Retry-After header.
 */
public final class ApiError extends RuntimeException {
  public final int status;
  public final String type;
  public final String param;
  public final String code;
  public final int retryAfterSeconds;

  public ApiError(
      int status, String type, String param, String code, String message, int retryAfterSeconds) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** 400 for a bad field: the message names the value and what is accepted. */
  public static ApiError badField(String param, String message) {
    return new ApiError(400, "invalid_request_error", param, "invalid_value", message, 0);
  }

  public static ApiError badRequest(String message) {
    return new ApiError(400, "invalid_request_error", null, "invalid_request", message, 0);
  }

  public static ApiError unauthorized() {
    return new ApiError(
        401,
        "authentication_error",
        null,
        "invalid_api_key",
        "missing or wrong 'Authorization: Bearer <token>' header (the coordinator requires its"
            + " shared token)",
        0);
  }

  public static ApiError notFound(String message) {
    return new ApiError(404, "invalid_request_error", null, "not_found", message, 0);
  }

  public static ApiError unknownModel(String model, Iterable<String> known) {
    return new ApiError(
        404,
        "invalid_request_error",
        "model",
        "model_not_found",
        "model '"
            + model
            + "' does not exist: no worker has served it; models served now: "
            + known,
        0);
  }

  public static ApiError methodNotAllowed(String method, String path, String allowed) {
    return new ApiError(
        405,
        "invalid_request_error",
        null,
        "method_not_allowed",
        method + " " + path + " is not supported: expected " + allowed,
        0);
  }

  public static ApiError tooLarge(long bytes, long max) {
    return new ApiError(
        413,
        "invalid_request_error",
        null,
        "request_too_large",
        "the request body is "
            + (bytes < 0 ? "larger than " + max : String.valueOf(bytes))
            + " bytes: expected at most "
            + max
            + " (quasiroll.limits.max-request-bytes)",
        0);
  }

  public static ApiError busy(int inFlight, int retryAfter) {
    return new ApiError(
        429,
        "rate_limit_error",
        null,
        "queue_full",
        "the coordinator already serves "
            + inFlight
            + " HTTP generation requests (quasiroll.http.max-in-flight);"
            + " retry after "
            + retryAfter
            + " s",
        retryAfter);
  }

  public static ApiError noWorker(String model) {
    return new ApiError(
        503,
        "service_unavailable",
        "model",
        "no_live_worker",
        "no live worker holds model '" + model + "' now; start one or retry later",
        5);
  }

  public static ApiError internal(String message) {
    return new ApiError(500, "server_error", null, "internal_error", message, 0);
  }

  public ObjectNode toJson() {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    ObjectNode e = root.putObject("error");
    e.put("message", getMessage());
    e.put("type", type);
    if (param == null) {
      e.putNull("param");
    } else {
      e.put("param", param);
    }
    e.put("code", code);
    return root;
  }
}
