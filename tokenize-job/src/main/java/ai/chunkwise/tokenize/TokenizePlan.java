package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.InputFiles;
import ai.chunkwise.tokenize.output.OutputDirectory;
import ai.chunkwise.tokenize.output.VersionPlan;
import ai.chunkwise.tokenize.shard.ResolvedTokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;

/**
 * Everything checked before any Spark work: the tokenizer loads, the packing spec is valid for it, the input
 * exists, the output is writable, and what this run publishes given the dataset already there (a first or
 * complete new version, an increment of new input files, or nothing). A mistake costs seconds, not a cluster run.
 *
 * @param settings the effective settings, with an automatic shard count resolved for the files to read
 * @param producer what produces this dataset's bytes (settings and tokenizer identity): its fingerprint's base
 * @param input    the input files this run reads (only the new ones for an increment)
 */
public record TokenizePlan(TokenizeSettings settings, ResolvedTokenizer tokenizerSource, TokenizerInfo tokenizer,
                           PackingSpec packing, SortedMap<String, Object> producer, InputFiles input,
                           OutputDirectory output, VersionPlan version) {

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
        OutputDirectory output = OutputDirectory.check(settings.output(), hadoopConf);
        SortedMap<String, Object> producer = producer(settings, info);
        VersionPlan version = VersionPlan.decide(settings.mode(), settings.overwrite(), output.existing(), producer,
                input, Redact.uri(settings.output()));
        InputFiles toRead = version.kind() == VersionPlan.Kind.INCREMENT ? input.only(version.files()) : input;
        long bytes = toRead.files().stream().mapToLong(FileStatus::getLen).sum();
        int shards = settings.shards() > 0 ? settings.shards()
                : (int) Math.max(1, (bytes + AUTO_SHARD_INPUT_BYTES - 1) / AUTO_SHARD_INPUT_BYTES);
        return new TokenizePlan(settings.withShards(shards), source, info, spec, producer, toRead, output, version);
    }

    /** The settings that change bytes plus the tokenizer's identity (its name is in every shard's schema). */
    static SortedMap<String, Object> producer(TokenizeSettings settings, TokenizerInfo t) {
        SortedMap<String, Object> p = settings.producerSettings();
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("name", t.name());
        tok.put("vocab_size", t.vocabSize());
        tok.put("vocab_hash", t.vocabHash());
        tok.put("bos_id", t.bosId());
        tok.put("eos_id", t.eosId());
        tok.put("pad_id", t.padId());
        p.put("tokenizer", tok);
        return p;
    }
}
