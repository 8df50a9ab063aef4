package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.InputFiles;
import ai.chunkwise.tokenize.shard.ResolvedTokenizer;
import ai.chunkwise.tokenize.output.OutputDirectory;
import org.apache.hadoop.conf.Configuration;

/**
 * Everything checked before any Spark work: the tokenizer loads, the packing spec is valid for it, the input
 * exists, the output is writable and holds no dataset (unless overwriting). A mistake costs seconds, not a
 * cluster run.
 *
 * @param settings the effective settings, with an automatic shard count resolved
 */
public record TokenizePlan(TokenizeSettings settings, ResolvedTokenizer tokenizerSource, TokenizerInfo tokenizer,
                           PackingSpec packing, InputFiles input, OutputDirectory output) {

    /** Input bytes per shard when tokenize.shards = 0 (auto). */
    public static final long AUTO_SHARD_INPUT_BYTES = 256L << 20;

    public static TokenizePlan prepare(TokenizeSettings settings, Configuration hadoopConf) {
        ResolvedTokenizer source = ResolvedTokenizer.resolve(settings.tokenizer(), hadoopConf);
        TokenizerInfo info;
        try (TextTokenizer t = source.open()) {
            info = t.info();
        }
        PackingSpec spec = new PackingSpec(settings.chunkSize(), settings.chunksPerSeq(), settings.packing(),
                settings.addBos(), settings.addEos(), info);
        InputFiles input = InputFiles.resolve(settings.input(), hadoopConf);
        OutputDirectory output = OutputDirectory.check(settings.output(), settings.overwrite(), hadoopConf);
        int shards = settings.shards() > 0 ? settings.shards()
                : (int) Math.max(1, (input.totalBytes() + AUTO_SHARD_INPUT_BYTES - 1) / AUTO_SHARD_INPUT_BYTES);
        return new TokenizePlan(settings.withShards(shards), source, info, spec, input, output);
    }
}
