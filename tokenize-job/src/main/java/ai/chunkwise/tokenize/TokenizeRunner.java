package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.cli.ChunkwiseVersion;
import ai.chunkwise.pipeline.format.DatasetCounts;
import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.DatasetVersion;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.lock.HeldLock;
import ai.chunkwise.pipeline.storage.Redact;
import ai.chunkwise.pipeline.format.ShardEntry;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.DocumentSource;
import ai.chunkwise.tokenize.input.RawRecord;
import ai.chunkwise.tokenize.output.OutputDirectory;
import ai.chunkwise.tokenize.output.VersionPlan;
import ai.chunkwise.tokenize.shard.DocumentTokenizer;
import ai.chunkwise.tokenize.shard.HeldOutSplit;
import ai.chunkwise.tokenize.shard.HadoopConfSnapshot;
import ai.chunkwise.tokenize.shard.ShardAssigner;
import ai.chunkwise.tokenize.shard.ShardKey;
import ai.chunkwise.tokenize.shard.ShardPartitioner;
import ai.chunkwise.tokenize.shard.ShardResult;
import ai.chunkwise.tokenize.shard.ShardTask;
import ai.chunkwise.tokenize.shard.TokenizedDocument;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
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
import java.util.function.Supplier;

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
        return locked(plan, () -> runLocked(spark, plan));
    }

    /**
     * A run with nothing to publish (no Spark needed), under the same locks: removes a killed run's leftovers and
     * repairs a {@code _SUCCESS} that does not name the current version.
     */
    public static TokenizeResult nothingToDo(TokenizePlan plan) {
        return locked(plan, () -> leaveUnchanged(plan));
    }

    /**
     * One job per output directory, on any file system (a second one would delete the first one's shards): the lock
     * sits next to the dataset directory, outside its versioned layout (vNNNN/, versions/); the held-out dataset is
     * an output too (another job may name it in --eval-output), locked second.
     */
    private static TokenizeResult locked(TokenizePlan plan, Supplier<TokenizeResult> work) {
        OutputDirectory eval = plan.evalOutput();
        try (HeldLock lock = plan.output().lock("tokenize-job", LOG::warn);
             HeldLock evalLock = eval == null ? null : eval.lock("tokenize-job", LOG::warn)) {
            plan.output().requireUnchangedSincePlanned();   // the version was planned before the lock was held
            if (eval != null) {
                eval.requireUnchangedSincePlanned();
            }
            return work.get();
        }
    }

    private static TokenizeResult leaveUnchanged(TokenizePlan plan) {
        List<String> notes = new ArrayList<>();
        for (OutputDirectory out : plan.evalOutput() == null ? List.of(plan.output())
                : List.of(plan.output(), plan.evalOutput())) {
            out.leaveUnchanged();
            String repaired = out.repairSuccessMarker();
            if (repaired != null) {
                LOG.warn(repaired);
                notes.add(repaired);
            }
        }
        String reason = plan.version().reason() + (notes.isEmpty() ? "" : "; " + String.join("; ", notes));
        LOG.info(reason);
        return TokenizeResult.nothingToDo(plan.output().path().toString(), plan.version().previous(), reason);
    }

    private static TokenizeResult runLocked(SparkSession spark, TokenizePlan plan) {
        TokenizeSettings s = plan.settings();
        VersionPlan version = plan.version();
        long start = System.nanoTime();
        if (version.kind() == VersionPlan.Kind.NOTHING) {
            return leaveUnchanged(plan);
        }
        LOG.info("publishing version {}: {}", version.number(), version.reason());
        plan.output().prepare();
        if (plan.evalOutput() != null) {
            plan.evalOutput().prepare();
        }

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
                records.mapPartitionsToPair(new DocumentTokenizer(s.format(), s.textField(),
                        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(plan.tokenizerSource()),
                        plan.tokenizer(), assigner));
        spark.sparkContext().setJobDescription("chunkwise tokenize " + Redact.uri(s.input()));
        if (plan.evalOutput() == null) {
            Written train = write(spark, plan, keyed, s.shards(), plan.output(), version, null);
            requireDocuments(plan, List.of(train), List.of(plan.output()), List.of(version));
            plan.output().publish(train.shardBytes, train.manifest);
            return new TokenizeResult(plan.output().path().toString(), train.manifest, seconds(start), train.splitDocuments);
        }
        // tokenized once, then routed: kept (spilling to disk if need be) for the two writes below. The held-out set
        // is published first: a run killed in between leaves the previous training version, so a re-run (or the
        // pipeline runner, which checks the training dataset) never finds a training set without its held-out set.
        keyed = keyed.persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            HeldOutSplit split = new HeldOutSplit(s.seed(), s.evalFraction());
            int evalShards = plan.evalShards();
            JavaPairRDD<ShardKey, TokenizedDocument> heldOut = keyed.filter(d -> split.isHeldOut(d._1()))
                    .mapToPair(d -> new Tuple2<>(rekey(d._1(), evalShards), d._2()));
            Written eval = write(spark, plan, heldOut, evalShards, plan.evalOutput(), plan.evalVersion(), "eval");
            Written train = write(spark, plan, keyed.filter(d -> !split.isHeldOut(d._1())), s.shards(),
                    plan.output(), version, "train");
            requireDocuments(plan, List.of(eval, train), List.of(plan.evalOutput(), plan.output()),
                    List.of(plan.evalVersion(), version));
            plan.evalOutput().publish(eval.shardBytes, eval.manifest);
            plan.output().publish(train.shardBytes, train.manifest);
            double seconds = seconds(start);
            TokenizeResult evalResult = new TokenizeResult(plan.evalOutput().path().toString(), eval.manifest, seconds,
                    eval.splitDocuments);
            return new TokenizeResult(plan.output().path().toString(), train.manifest, seconds, train.splitDocuments,
                    evalResult);
        } finally {
            keyed.unpersist(false);
        }
    }

    private record Written(Manifest manifest, Map<String, Long> shardBytes, long splitDocuments,
                           List<ShardResult> results) {
    }

    /** Routes, packs and writes one dataset's new shards into its version directory; publishing comes later. */
    private static Written write(SparkSession spark, TokenizePlan plan, JavaPairRDD<ShardKey, TokenizedDocument> keyed,
                                 int shards, OutputDirectory output, VersionPlan version, String split) {
        JavaPairRDD<ShardKey, TokenizedDocument> ordered =
                keyed.repartitionAndSortWithinPartitions(new ShardPartitioner(shards), ShardKey.ORDER);
        int shardOffset = version.kind() == VersionPlan.Kind.INCREMENT ? version.previous().shards().size() : 0;
        ShardTask task = new ShardTask(output.path().toString(), DatasetVersion.dirName(version.number()), shardOffset,
                new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration()), plan.packing(),
                plan.settings().rowsPerBatch());
        List<ShardResult> results = new ArrayList<>(ordered.mapPartitionsWithIndex(task, false).collect());
        results.sort(Comparator.comparingInt(r -> r.shard));

        Manifest manifest = manifestOf(plan, results, version, split);
        Map<String, Long> shardBytes = new LinkedHashMap<>();
        results.forEach(r -> shardBytes.put(r.fileName, r.bytes));
        return new Written(manifest, shardBytes, results.stream().mapToLong(r -> r.splitDocuments).sum(), results);
    }

    /**
     * An input none of whose records could be packed publishes nothing: the new version directories are removed
     * and the user learns why.
     */
    private static void requireDocuments(TokenizePlan plan, List<Written> written, List<OutputDirectory> outputs,
                                         List<VersionPlan> versions) {
        List<ShardResult> results = written.stream().flatMap(w -> w.results.stream()).toList();
        if (results.stream().mapToLong(r -> r.documentsPacked).sum() > 0) {
            return;
        }
        for (int i = 0; i < outputs.size(); i++) {
            outputs.get(i).discard(versions.get(i).number());
        }
        long read = results.stream().mapToLong(r -> r.documentsRead).sum();
        TreeMap<String, Long> skipped = new TreeMap<>();
        results.forEach(r -> r.skipped.forEach((k, v) -> skipped.merge(k, v, Long::sum)));
        String files = plan.input().files().size() + " input file(s) under " + Redact.uri(plan.input().root().toString());
        if (read == 0) {
            throw new IllegalStateException(files + " hold no records (empty files?); nothing was published. "
                    + "Check --input and --format");
        }
        throw new IllegalStateException("all " + read + " record(s) of " + files + " were skipped as invalid (" + skipped
                + "); nothing was published. Check --format " + plan.settings().format().configName()
                + (plan.settings().format().hasTextField() ? " and --text-field " + plan.settings().textField() : "")
                + ", or fix the input");
    }

    /** A held-out document's key in the held-out dataset: its shard among {@code shards}, the same order hash. */
    private static ShardKey rekey(ShardKey key, int shards) {
        return new ShardKey((int) Long.remainderUnsigned(key.hash(), shards), key.hash(), key.file(), key.index());
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * The manifest of a version: for an increment, the previous version's shards first, then the new ones, and
     * the counts of both.
     *
     * @param split "train" or "eval" when the run holds documents out (recorded in the manifest's config), else null
     */
    static Manifest manifestOf(TokenizePlan plan, List<ShardResult> results, VersionPlan version, String split) {
        long read = 0;
        long tokens = 0;
        long padding = 0;
        long rows = 0;
        TreeMap<String, Long> skipped = new TreeMap<>();
        List<ShardEntry> entries = new ArrayList<>();
        List<DatasetVersion.Increment> increments = new ArrayList<>();
        if (version.kind() == VersionPlan.Kind.INCREMENT) {
            Manifest prev = version.previous();
            DatasetCounts c = prev.counts();
            read += c.documentsRead();
            tokens += c.tokens();
            padding += c.paddingTokens();
            rows += c.sequences();
            c.documentsSkipped().forEach((k, v) -> skipped.merge(k, v, Long::sum));
            entries.addAll(prev.shards());
            increments.addAll(prev.datasetVersion().increments());
        }
        for (ShardResult r : results) {
            read += r.documentsRead;
            tokens += r.tokens;
            padding += r.padding;
            rows += r.rows;
            r.skipped.forEach((k, v) -> skipped.merge(k, v, Long::sum));
            entries.add(new ShardEntry(r.fileName, r.rows, r.tokens, r.bytes, r.sha256));
        }
        List<DatasetVersion.InputFile> files = new ArrayList<>();
        for (FileStatus f : plan.input().files()) {
            files.add(new DatasetVersion.InputFile(plan.input().keyOf(f), f.getLen(), f.getModificationTime()));
        }
        increments.add(new DatasetVersion.Increment(version.number(), results.size(), files));
        DatasetCounts counts = new DatasetCounts(read, skipped, tokens, padding, rows);
        return new Manifest(DatasetHeader.CURRENT_FORMAT_VERSION, createdBy(),
                DatasetHeader.of(plan.packing()), configOf(plan, split), counts, entries,
                DatasetVersion.of(version.number(), plan.producerOf(split == null ? null : split), increments));
    }

    /** Recorded in manifest.json's created_by. */
    public static String createdBy() {
        return "chunkwise tokenize-job " + ChunkwiseVersion.version();
    }

    private static SortedMap<String, Object> configOf(TokenizePlan plan, String split) {
        SortedMap<String, Object> config = plan.settings().toConfigMap();
        if (split != null) {
            config.put("split", split);
        }
        return config;
    }
}
