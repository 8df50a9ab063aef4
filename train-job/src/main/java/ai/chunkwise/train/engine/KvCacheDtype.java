package ai.chunkwise.train.engine;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The type SeCO/SpaCO keep the K/V cache of the whole sequence in, and the buffer of its accumulated gradients
 * ({@code train.method.kv-cache-dtype}). {@link #COMPUTE}, the default, is exact. {@link #BFLOAT16} halves the
 * two buffers of a float32 run (the largest sequence-sized memory) at the price of exactness: each K/V is rounded
 * to bfloat16 as it is cached, and each chunk's addition to the gradient buffer is rounded once. Every computation
 * still runs in the compute type: a chunk widens the layer's cached past before reading it and adds its past's
 * gradient in the compute type before rounding it back.
 */
public enum KvCacheDtype {
    COMPUTE("compute"),
    BFLOAT16("bfloat16");

    private final String configName;

    KvCacheDtype(String configName) {
        this.configName = configName;
    }

    /** The name users write. */
    public String configName() {
        return configName;
    }

    /** The buffers' type for a model computing in {@code compute}. */
    public DataType dataType(DataType compute) {
        return this == COMPUTE ? compute : DataType.BFLOAT16;
    }

    /** Bytes per cached value for a model computing with {@code computeBytes} bytes per value. */
    public int bytesPerValue(int computeBytes) {
        return this == COMPUTE ? computeBytes : 2;
    }

    /** "compute" or "bfloat16" (case-insensitive); the error lists the valid ones. */
    public static KvCacheDtype parse(String name) {
        for (KvCacheDtype d : values()) {
            if (d.configName.equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown K/V cache dtype '" + name + "': use compute or bfloat16");
    }

    @Override
    public String toString() {
        return configName;
    }
}
