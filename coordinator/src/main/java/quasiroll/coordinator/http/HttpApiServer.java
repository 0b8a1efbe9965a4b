package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's OpenAI-compatible HTTP API (docs/http-api.md), on pekko-http: the coordinator
 * already runs Pekko, and pekko-http is the HTTP server Pekko Management (our Kubernetes bootstrap)
 * already brings in, so this adds no new stack. One request handler routes by method and path;
 * generation goes through {@link GenerationService}.
 *
 * <p>Same protection as the gRPC API: the shared bearer token on every endpoint but {@code /health}
 * (load-balancer probes), the same request size limit (quasiroll.limits.max-request-bytes, answered
 * 413 before the body is read when the Content-Length says so), and at most
 * quasiroll.http.max-in-flight generation requests at once (429 with Retry-After beyond). A bad
 * request is refused before its job exists, so it never touches other jobs.
 */
public final class HttpApiServer {
  private static final Logger log = LoggerFactory.getLogger(HttpApiServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String VERSION =
      Optional.ofNullable(HttpApiServer.class.getPackage().getImplementationVersion())
          .orElse("0.1.0-SNAPSHOT");

  private final HttpApiSettings settings;
  private final GenerationService service;
  private final GenerationRequestParser parser;
  private final SseStreams streams;
  private final Materializer materializer;
  private final byte[] expectedAuth;
  private final AtomicInteger inFlight = new AtomicInteger();

  private HttpApiServer(
      ActorSystem<?> system, HttpApiSettings settings, GenerationService service) {
    this.settings = settings;
    this.service = service;
    this.parser = new GenerationRequestParser(settings);
    this.materializer = Materializer.matFromSystem(system);
    this.streams = new SseStreams(service, settings.streamKeepAlive());
    this.expectedAuth =
        settings.token().isEmpty()
            ? null
            : ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Binds the server; the returned binding says the bound port (settings.port 0 = any free one).
   */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, HttpApiSettings settings, GenerationService service) {
    HttpApiServer server = new HttpApiServer(system, settings, service);
    long timeoutMs = settings.requestTimeout().toMillis();
    ServerSettings ss =
        ServerSettings.create(
            ConfigFactory.parseMap(
                    Map.of(
                        "pekko.http.server.request-timeout", timeoutMs + "ms",
                        "pekko.http.server.idle-timeout", (timeoutMs + 60_000) + "ms",
                        "pekko.http.server.parsing.max-content-length",
                            Long.toString(settings.maxRequestBytes()),
                        // No Nagle delay on small responses and SSE chunks, whatever the OS
                        // default.
                        "pekko.http.server.socket-options.tcp-no-delay", "true",
                        "pekko.http.server.server-header", "quasiroll/" + VERSION))
                .withFallback(system.settings().config()));
    return Http.get(system)
        .newServerAt(settings.bind(), settings.port())
        .withSettings(ss)
        .bind(server::handle);
  }

  CompletionStage<HttpResponse> handle(HttpRequest req) {
    String path = req.getUri().path();
    String method = req.method().value();
    try {
      if (path.equals("/health")) {
        requireMethod(method, path, "GET");
        return service
            .liveModels(false)
            .thenApply(
                m -> {
                  ObjectNode o = JsonNodeFactory.instance.objectNode();
                  o.put("status", "ok");
                  o.put("live_workers", m.values().stream().mapToInt(Integer::intValue).sum());
                  return json(200, o);
                })
            .exceptionally(HttpApiServer::error);
      }
      if (expectedAuth != null) {
        Optional<String> got = req.getHeader("Authorization").map(h -> h.value());
        if (got.isEmpty()
            || !MessageDigest.isEqual(expectedAuth, got.get().getBytes(StandardCharsets.UTF_8))) {
          req.discardEntityBytes(materializer);
          return done(error(ApiError.unauthorized()));
        }
      }
      return switch (path) {
        case "/version" -> {
          requireMethod(method, path, "GET");
          yield done(json(200, JsonNodeFactory.instance.objectNode().put("version", VERSION)));
        }
        case "/v1/models" -> {
          requireMethod(method, path, "GET");
          yield service
              .liveModels(true)
              .thenCombine(service.policyStatus(), HttpApiServer::models)
              .exceptionally(HttpApiServer::error);
        }
        case "/v1/completions" -> generate(req, method, path, false);
        case "/v1/chat/completions" -> generate(req, method, path, true);
        case "/tokenizer_info" -> {
          requireMethod(method, path, "GET");
          String model = req.getUri().query().get("model").orElse("");
          yield tokenizerFor(model)
              .thenApply(t -> tokenizerInfo(t))
              .exceptionally(HttpApiServer::error);
        }
        case "/tokenize" -> withBody(req, method, path, this::tokenize);
        case "/detokenize" -> withBody(req, method, path, this::detokenize);
        default -> {
          req.discardEntityBytes(materializer);
          yield done(
              error(
                  ApiError.notFound(
                      "no endpoint "
                          + path
                          + ": expected /v1/completions, /v1/chat/completions, /v1/models,"
                          + " /tokenize, /detokenize, /tokenizer_info, /health or /version")));
        }
      };
    } catch (ApiError e) {
      req.discardEntityBytes(materializer);
      return done(error(e));
    }
  }

  private static void requireMethod(String method, String path, String allowed) {
    if (!method.equals(allowed)) {
      throw ApiError.methodNotAllowed(method, path, allowed);
    }
  }

  /** Reads the body (within the size limit) as JSON, then answers with {@code f}. */
  private CompletionStage<HttpResponse> withBody(
      HttpRequest req,
      String method,
      String path,
      java.util.function.Function<JsonNode, CompletionStage<HttpResponse>> f) {
    requireMethod(method, path, "POST");
    long max = settings.maxRequestBytes();
    var declared = req.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > max) {
      req.discardEntityBytes(materializer);
      return done(error(ApiError.tooLarge(declared.getAsLong(), max)));
    }
    // A body that arrived whole (the usual small request) is already strict: taking it as it is
    // avoids toStrict(timeout, maxBytes), which materializes a stream (an actor) per request.
    CompletionStage<? extends HttpEntity.Strict> strictBody;
    if (req.entity() instanceof HttpEntity.Strict whole) {
      if (whole.getData().size() > max) {
        return done(error(ApiError.tooLarge(whole.getData().size(), max)));
      }
      strictBody = CompletableFuture.completedFuture(whole);
    } else {
      strictBody = req.entity().toStrict(settings.requestTimeout().toMillis(), max, materializer);
    }
    return strictBody
        .thenCompose(
            strict -> {
              JsonNode body;
              try {
                body = JSON.readTree(strict.getData().toArrayUnsafe());
              } catch (java.io.IOException e) {
                throw ApiError.badRequest(
                    "the request body is not valid JSON: "
                        + e.getMessage().lines().findFirst().orElse(""));
              }
              return f.apply(body);
            })
        .exceptionally(
            e -> {
              Throwable c = unwrap(e);
              if (c instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
                return error(ApiError.tooLarge(-1, max));
              }
              return error(c);
            });
  }

  private CompletionStage<HttpResponse> generate(
      HttpRequest req, String method, String path, boolean chat) {
    requireMethod(method, path, "POST");
    int now = inFlight.incrementAndGet();
    if (now > settings.maxInFlight()) {
      inFlight.decrementAndGet();
      req.discardEntityBytes(materializer);
      return done(error(ApiError.busy(now - 1, 1)));
    }
    boolean[] streaming = new boolean[1];
    CompletionStage<HttpResponse> out =
        withBody(
            req,
            method,
            path,
            body -> {
              GenerationRequest r = parser.parse(body, chat);
              return service
                  .submit(r)
                  .thenCompose(
                      s -> {
                        if (r.stream()) {
                          streaming[0] = true;
                          Source<ByteString, NotUsed> sse =
                              streams.events(s, inFlight::decrementAndGet);
                          return done(
                              HttpResponse.create()
                                  .withStatus(200)
                                  .addHeader(RawHeader.create("Cache-Control", "no-cache"))
                                  .withEntity(
                                      HttpEntities.createChunked(
                                          MediaTypes.TEXT_EVENT_STREAM.toContentType(), sse)));
                        }
                        return service.complete(s).thenApply(o -> json(200, o));
                      });
            });
    return out.whenComplete(
        (resp, e) -> {
          if (!streaming[0]) {
            inFlight.decrementAndGet();
          }
        });
  }

  private CompletionStage<HttpResponse> tokenize(JsonNode body) {
    return tokenizerFor(body.path("model").asText("")).thenApply(t -> tokenize(body, t.tokenizer));
  }

  private HttpResponse tokenize(JsonNode body, ModelTokenizer tok) {
    JsonNode prompt = body.get("prompt");
    if (prompt == null || !prompt.isTextual()) {
      throw ApiError.badField(
          "prompt",
          "prompt is " + GenerationRequestParser.describe(prompt) + ": expected a string");
    }
    boolean special = body.path("add_special_tokens").asBoolean(false);
    int[] ids = special ? tok.encodeWithBos(prompt.asText()) : tok.encode(prompt.asText());
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("count", ids.length);
    ArrayNode a = o.putArray("tokens");
    for (int id : ids) {
      a.add(id);
    }
    return json(200, o);
  }

  private CompletionStage<HttpResponse> detokenize(JsonNode body) {
    return tokenizerFor(body.path("model").asText(""))
        .thenApply(t -> detokenize(body, t.tokenizer));
  }

  private HttpResponse detokenize(JsonNode body, ModelTokenizer tok) {
    JsonNode tokens = body.get("tokens");
    if (tokens == null || !tokens.isArray()) {
      throw ApiError.badField(
          "tokens",
          "tokens is "
              + GenerationRequestParser.describe(tokens)
              + ": expected an array of token ids");
    }
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode t = tokens.get(i);
      if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= tok.vocabSize()) {
        throw ApiError.badField(
            "tokens",
            "tokens[" + i + "] is " + t + ": expected a token id in 0.." + (tok.vocabSize() - 1));
      }
      ids[i] = t.asInt();
    }
    return json(200, JsonNodeFactory.instance.objectNode().put("prompt", tok.decode(ids)));
  }

  /** A model's tokenizer, by id. */
  private record NamedTokenizer(String model, ModelTokenizer tokenizer, ModelCatalog.Entry entry) {}

  /**
   * The tokenizer of {@code model}; an empty id means the one model live workers serve (vLLM's
   * tokenizer endpoints take no model, and lm-evaluation-harness's remote tokenizer sends none).
   */
  private CompletionStage<NamedTokenizer> tokenizerFor(String model) {
    CompletionStage<String> id =
        model.isEmpty()
            ? service
                .liveModels(false)
                .thenApply(
                    live -> {
                      if (live.size() != 1) {
                        throw ApiError.badField(
                            "model",
                            "model is missing: expected a model id, one of "
                                + live.keySet()
                                + " (it may be left out only while exactly one model is served)");
                      }
                      return live.keySet().iterator().next();
                    })
            : CompletableFuture.completedFuture(model);
    return id.thenApply(
        m -> {
          ModelCatalog.Entry e = service.catalog().get(m);
          if (e.tokenizer() == null) {
            throw ApiError.badField(
                "model", "model '" + m + "' has no tokenizer on the coordinator: " + e.why());
          }
          return new NamedTokenizer(m, e.tokenizer(), e);
        });
  }

  /**
   * vLLM's {@code GET /tokenizer_info}, which lm-evaluation-harness's {@code
   * tokenizer_backend=remote} (chosen automatically when the server has it) reads for the BOS/EOS
   * texts and chat template.
   */
  private static HttpResponse tokenizerInfo(NamedTokenizer t) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("model", t.model);
    o.put("tokenizer_class", "quasiroll");
    o.put("vocab_size", t.tokenizer.vocabSize());
    putOrNull(o, "bos_token", t.entry.bosToken());
    putOrNull(o, "eos_token", t.entry.eosToken());
    o.putNull("pad_token");
    putOrNull(o, "chat_template", t.entry.chatTemplate());
    return json(200, o);
  }

  private static void putOrNull(ObjectNode o, String field, String value) {
    if (value == null || value.isEmpty()) {
      o.putNull(field);
    } else {
      o.put(field, value);
    }
  }

  /**
   * OpenAI's model list, plus per model: {@code live_workers}, {@code latest_policy_version} (the
   * newest published version, 0 = none published: the start-up weights) and {@code
   * serving_policy_versions} (the distinct versions its live workers serve now, ascending).
   */
  static HttpResponse models(Map<String, Integer> live, quasiroll.v1.PolicyStatus policies) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("object", "list");
    ArrayNode data = o.putArray("data");
    for (Map.Entry<String, Integer> e : live.entrySet()) {
      ObjectNode m = data.addObject();
      m.put("id", e.getKey());
      m.put("object", "model");
      m.put("created", 0);
      m.put("owned_by", "quasiroll");
      m.put("live_workers", e.getValue());
      long latest = 0;
      for (quasiroll.v1.ModelPolicy p : policies.getModelsList()) {
        if (p.getModelId().equals(e.getKey())) {
          latest = p.getLatestVersion();
        }
      }
      m.put("latest_policy_version", latest);
      java.util.TreeSet<Long> serving = new java.util.TreeSet<>();
      for (quasiroll.v1.WorkerPolicy w : policies.getWorkersList()) {
        if (w.getModelId().equals(e.getKey())) {
          serving.add(w.getServingVersion());
        }
      }
      ArrayNode versions = m.putArray("serving_policy_versions");
      serving.forEach(versions::add);
    }
    return json(200, o);
  }

  static HttpResponse json(int status, JsonNode body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse error(Throwable t) {
    Throwable c = unwrap(t);
    ApiError e;
    if (c instanceof ApiError a) {
      e = a;
    } else if (c instanceof java.util.concurrent.TimeoutException) {
      e =
          new ApiError(
              503,
              "service_unavailable",
              null,
              "timeout",
              "the job manager did not answer in time",
              1);
    } else {
      log.warn("HTTP request failed", c);
      e = ApiError.internal(String.valueOf(c));
    }
    HttpResponse r = json(e.status, e.toJson());
    return e.retryAfterSeconds > 0
        ? r.addHeader(RawHeader.create("Retry-After", Integer.toString(e.retryAfterSeconds)))
        : r;
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}
