package quasiroll.worker.runtime;

import quasiroll.worker.tokenizer.Tokenizer;

/** A model ready to decode: its backend and the tokenizer of its vocabulary. */
public record LoadedModel(ModelBackend backend, Tokenizer tokenizer) {}
