/**
 * Gradient engines: given a {@link ai.chunkwise.train.engine.Batch} (token ids, optional loss mask, optional
 * document starts per row) they return the exact mean loss and the gradients of every trainable tensor by
 * checkpoint name ({@link ai.chunkwise.train.engine.BatchGradients}). One place picks the engine:
 * {@link ai.chunkwise.train.engine.EngineSpec} (a {@link ai.chunkwise.train.engine.Method} with its chunk size,
 * budget and sampling) builds it for {@code train}, {@code grad} and the benchmarks alike; a randomized engine
 * takes its seed with each batch.
 * <ul>
 *   <li>{@link ai.chunkwise.train.engine.FullBackprop}: the whole sequence as one chunk; the oracle.</li>
 *   <li>{@link ai.chunkwise.train.engine.SecoEngine}: exact chunk-wise back-propagation (docs/seco-spaco.md):
 *       pass 1 forward keeping K/V, pass 2 in reverse with the K/V gradient injected.</li>
 *   <li>{@link ai.chunkwise.train.engine.SpacoEngine}: pass 2 over a random subset of chunks, scaled by 1/q
 *       per hop; {@link ai.chunkwise.train.engine.SpacoSampling#BERNOULLI} (default) is exactly unbiased,
 *       {@link ai.chunkwise.train.engine.SpacoSampling#UNIFORM} is the paper's t-of-k draw.</li>
 * </ul>
 * Document boundaries: no attention across documents, rotary positions restart, a document's first token is
 * not a target, and a chunk drops the cached K/V of documents no row still needs (all of them when every row
 * starts a document on the chunk boundary).
 */
package ai.chunkwise.train.engine;
