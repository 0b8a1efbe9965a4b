package quasiroll.worker.runtime;

import quasiroll.worker.tokenizer.Tokenizer;

/**
 * A model ready to decode: its backend and the tokenizer of its vocabulary, as {@link
 * ModelLoader#load} returns it (not the weights themselves: those are {@code
 * quasiroll.worker.model.LoadedModel}).
 */
public record ModelHandle(ModelBackend backend, Tokenizer tokenizer) {}
