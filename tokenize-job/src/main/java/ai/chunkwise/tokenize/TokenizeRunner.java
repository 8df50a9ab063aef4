package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetCounts;
import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.format.ShardEntry;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.DocumentSource;
import ai.chunkwise.tokenize.input.RawRecord;
import ai.chunkwise.tokenize.output.OutputDirectory;
import ai.chunkwise.tokenize.shard.DocumentTokenizer;
import ai.chunkwise.tokenize.shard.HeldOutSplit;
import ai.chunkwise.tokenize.shard.HadoopConfSnapshot;
import ai.chunkwise.tokenize.shard.ShardAssigner;
import ai.chunkwise.tokenize.shard.ShardKey;
import ai.chunkwise.tokenize.shard.ShardPartitioner;
import ai.chunkwise.tokenize.shard.ShardResult;
import ai.chunkwise.tokenize.shard.ShardTask;
import ai.chunkwise.tokenize.shard.TokenizedDocument;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The Spark part of the job: read -> tokenize -> route to shards -> pack and write each shard -> manifest.
 *
 * <p>Why this shape:
 * <ul>
 *   <li>Determinism. Output must depend only on input, config and seed, never on partitioning. So every
 *   document gets an identity that Spark's splitting cannot change (file relative to the input root + record
 *   index in it), a seeded hash of that identity picks its shard and its place in the shard, and each shard is
 *   packed by one task in that order. Partition counts, executor counts, retries and task timing only change
 *   who computes what, never the bytes.</li>
 *   <li>Tokenize BEFORE the shuffle, in the input partitions (repartitioned to the wanted parallelism): all
 *   cores tokenize whatever the shard count; after the shuffle only cheap packing and writing remain, one task
 *   per shard. Tokens are about as compact as the text they replace, so the shuffle does not grow.</li>
 *   <li>repartitionAndSortWithinPartitions sorts inside Spark's shuffle (spilling to disk), so a shard never has
 *   to fit in memory for ordering; only the bfd packer holds a shard's documents (use more shards if needed).</li>
 *   <li>Skipped records travel to their shard too and are counted there: counts are exact under task retries
 *   (unlike accumulators updated in transformations).</li>
 *   <li>Executors write their shard straight to the output file system (no data through the driver); the driver
 *   only collects one small result per shard and writes manifest.json last.</li>
 * </ul>
 * The cost: the shard count is part of the output's identity (a different --shards gives a different, equally
 * valid split and order), and one shard's packing is sequential. Both are the price of reproducible shards.
 */
public final class TokenizeRunner {
    private static final Logger LOG = LoggerFactory.getLogger(TokenizeRunner.class);

    private TokenizeRunner() {
    }

    public static TokenizeResult run(SparkSession spark, TokenizePlan plan) {
        TokenizeSettings s = plan.settings();
        long start = System.nanoTime();
        plan.output().clear();

        int parallelism = s.partitions() > 0 ? s.partitions() : spark.sparkContext().defaultParallelism();
        JavaRDD<RawRecord> records = DocumentSource.read(spark, plan.input(), s.format(), s.textField(), parallelism);
        int inputPartitions = records.getNumPartitions();
        if (inputPartitions < parallelism) {
            records = records.repartition(parallelism); // e.g. one .gz file is one split: spread it over the cores
        } else if (inputPartitions > parallelism) {
            records = records.coalesce(parallelism);
        }
        LOG.info("tokenizing {} input file(s) ({} bytes) in {} partitions into {} shard(s) of {}-token rows",
                plan.input().files().size(), plan.input().totalBytes(), parallelism, s.shards(), s.seqLen());

        ShardAssigner assigner = new ShardAssigner(s.seed(), s.shards());
        JavaPairRDD<ShardKey, TokenizedDocument> keyed =
                records.mapPartitionsToPair(new DocumentTokenizer(s.format(), s.textField(), s.tokenizer(),
                        s.specialTokens(), plan.tokenizer(), assigner));
        spark.sparkContext().setJobDescription("chunkwise tokenize " + s.input());
        if (plan.evalOutput() == null) {
            Written train = write(spark, plan, keyed, s.shards(), plan.output(), null);
            return new TokenizeResult(plan.output().path().toString(), train.manifest, seconds(start), train.splitDocuments);
        }
        // tokenized once, then routed: kept (spilling to disk if need be) for the two writes below. The held-out set
        // is committed first: a run killed in between leaves no training dataset, so a re-run (or the pipeline
        // runner, which checks the training dataset) never finds a training set without its held-out set.
        keyed = keyed.persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            HeldOutSplit split = new HeldOutSplit(s.seed(), s.evalFraction());
            int evalShards = plan.evalShards();
            JavaPairRDD<ShardKey, TokenizedDocument> heldOut = keyed.filter(d -> split.isHeldOut(d._1()))
                    .mapToPair(d -> new Tuple2<>(rekey(d._1(), evalShards), d._2()));
            plan.evalOutput().clear();
            Written eval = write(spark, plan, heldOut, evalShards, plan.evalOutput(), "eval");
            Written train = write(spark, plan, keyed.filter(d -> !split.isHeldOut(d._1())), s.shards(),
                    plan.output(), "train");
            double seconds = seconds(start);
            TokenizeResult evalResult = new TokenizeResult(plan.evalOutput().path().toString(), eval.manifest, seconds,
                    eval.splitDocuments);
            return new TokenizeResult(plan.output().path().toString(), train.manifest, seconds, train.splitDocuments,
                    evalResult);
        } finally {
            keyed.unpersist(false);
        }
    }

    private record Written(Manifest manifest, long splitDocuments) {
    }

    /** Routes, packs and writes one dataset, then commits its manifest (last). */
    private static Written write(SparkSession spark, TokenizePlan plan, JavaPairRDD<ShardKey, TokenizedDocument> keyed,
                                 int shards, OutputDirectory output, String split) {
        JavaPairRDD<ShardKey, TokenizedDocument> ordered =
                keyed.repartitionAndSortWithinPartitions(new ShardPartitioner(shards), ShardKey.ORDER);
        ShardTask task = new ShardTask(output.path().toString(),
                new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration()), plan.packing(), plan.settings().rowsPerBatch());
        List<ShardResult> results = new ArrayList<>(ordered.mapPartitionsWithIndex(task, false).collect());
        results.sort(Comparator.comparingInt(r -> r.shard));

        Manifest manifest = manifestOf(plan, results, split);
        Map<String, Long> shardBytes = new LinkedHashMap<>();
        results.forEach(r -> shardBytes.put(r.fileName, r.bytes));
        output.commit(shardBytes, manifest);
        return new Written(manifest, results.stream().mapToLong(r -> r.splitDocuments).sum());
    }

    /** A held-out document's key in the held-out dataset: its shard among {@code shards}, the same order hash. */
    private static ShardKey rekey(ShardKey key, int shards) {
        return new ShardKey((int) Long.remainderUnsigned(key.hash(), shards), key.hash(), key.file(), key.index());
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    static Manifest manifestOf(TokenizePlan plan, List<ShardResult> results) {
        return manifestOf(plan, results, null);
    }

    /** @param split "train" or "eval" when the run holds documents out (recorded in the manifest's config), else null */
    static Manifest manifestOf(TokenizePlan plan, List<ShardResult> results, String split) {
        long read = 0;
        long tokens = 0;
        long padding = 0;
        long rows = 0;
        TreeMap<String, Long> skipped = new TreeMap<>();
        List<ShardEntry> entries = new ArrayList<>();
        for (ShardResult r : results) {
            read += r.documentsRead;
            tokens += r.tokens;
            padding += r.padding;
            rows += r.rows;
            r.skipped.forEach((k, v) -> skipped.merge(k, v, Long::sum));
            entries.add(new ShardEntry(r.fileName, r.rows, r.tokens, r.bytes, r.sha256));
        }
        DatasetCounts counts = new DatasetCounts(read, skipped, tokens, padding, rows);
        return new Manifest(DatasetHeader.CURRENT_FORMAT_VERSION, TokenizeJob.createdBy(),
                DatasetHeader.of(plan.packing()), configOf(plan, split), counts, entries);
    }

    private static SortedMap<String, Object> configOf(TokenizePlan plan, String split) {
        SortedMap<String, Object> config = plan.settings().toConfigMap();
        if (split != null) {
            config.put("split", split);
        }
        return config;
    }
}
