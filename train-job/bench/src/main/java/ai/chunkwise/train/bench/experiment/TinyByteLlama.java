package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.pipeline.tokenizer.ByteTokenizer;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The experiments' model: the demo's byte-level Llama (conf/models/tiny-bytes-llama.json: 2 layers, hidden 128,
 * 4 heads, 2 KV heads, FFN 344, vocabulary 259, tied), from scratch, float32.
 */
final class TinyByteLlama {
    static final LlamaConfig CONFIG = new LlamaConfig(ByteTokenizer.VOCAB_SIZE, 128, 344, 2, 4, 2, 32, 1e-5, 10000.0,
            null, true, 4096, ByteTokenizer.BOS_ID, ByteTokenizer.EOS_ID);
    static final double INIT_STD = 0.02;

    private TinyByteLlama() {
    }

    static LlamaModel create(long seed, int batch) {
        LlamaModel model = new LlamaModel(CONFIG, RandomInit.weights(CONFIG, seed, INIT_STD, DataType.FLOAT), null,
                DataType.FLOAT, batch);
        // tiny model: collect SameDiff's native buffers only once they reach 256 MB, not after every chunk
        model.setNativeMemoryCollectionThreshold(256L << 20);
        return model;
    }
}
