package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

/**
 * Everything that decides a gradient engine, validated once: the method, its chunk size (chunked methods), and
 * SpaCO's budget t and sampling. {@code train}, {@code grad} and the benchmarks all build their engine here.
 *
 * @param chunkSize tokens per chunk; ignored (may be 0) for {@link Method#FULL}
 * @param budget    SpaCO's t, the expected (bernoulli) or exact (uniform) number of chunks back-propagated per
 *                  sequence; ignored by the other methods
 * @param sampling  SpaCO's chunk draw; ignored by the other methods
 * @param kvCache   the type of the chunked methods' K/V cache and K/V gradient buffer ({@link KvCacheDtype});
 *                  anything but {@link KvCacheDtype#COMPUTE} is refused for {@link Method#FULL}, which keeps none
 */
public record EngineSpec(Method method, int chunkSize, double budget, SpacoSampling sampling, KvCacheDtype kvCache)
        implements java.io.Serializable {

    public EngineSpec {
        if (method == null) {
            throw new IllegalArgumentException("no gradient method given: use " + Method.names());
        }
        if (kvCache == null) {
            kvCache = KvCacheDtype.COMPUTE;
        }
        if (!method.chunked() && kvCache != KvCacheDtype.COMPUTE) {
            throw new IllegalArgumentException("kv-cache-dtype = " + kvCache + " applies to seco and spaco only: method "
                    + method + " keeps no K/V cache; use kv-cache-dtype = compute");
        }
        if (method.chunked() && chunkSize < 1) {
            throw new IllegalArgumentException("method " + method + " needs a chunk size >= 1, got " + chunkSize);
        }
        if (method.sampled()) {
            if (!(budget > 0)) {
                throw new IllegalArgumentException("method " + method + " needs a budget t > 0 chunks, got " + budget);
            }
            if (sampling == null) {
                throw new IllegalArgumentException("method " + method + " needs a sampling: uniform, bernoulli or importance");
            }
            sampling.requireValidBudget(budget);
        }
    }

    /** With the exact K/V cache, in the compute type. */
    public EngineSpec(Method method, int chunkSize, double budget, SpacoSampling sampling) {
        this(method, chunkSize, budget, sampling, KvCacheDtype.COMPUTE);
    }

    /** This spec with its K/V cache and K/V gradient buffer in {@code kvCache}. */
    public EngineSpec withKvCache(KvCacheDtype kvCache) {
        return new EngineSpec(method, chunkSize, budget, sampling, kvCache);
    }

    public static EngineSpec seco(int chunkSize) {
        return new EngineSpec(Method.SECO, chunkSize, 0, null);
    }

    public static EngineSpec spaco(int chunkSize, double budget, SpacoSampling sampling) {
        return new EngineSpec(Method.SPACO, chunkSize, budget, sampling);
    }

    /** The engine for {@code model}; it may be reused for every batch (randomness comes with each call's seed). */
    public GradientEngine create(LlamaModel model) {
        return method.create(model, this);
    }
}
