package ai.chunkwise.tokenize.shard;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.ShardStats;
import ai.chunkwise.pipeline.format.ShardWriter;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.packing.PackingStats;
import ai.chunkwise.pipeline.packing.SequencePacker;
import ai.chunkwise.tokenize.output.DatasetLayout;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;

/**
 * Packs the documents of ONE shard (a Spark partition after the shuffle, already in shard order) and writes
 * them as one Arrow shard file straight to the output file system: first under an attempt-unique name in the
 * temporary directory, renamed to its final name once complete. A retried or speculative attempt writes the
 * same bytes (the input and order are fixed), so whichever rename lands last is equally correct.
 */
public final class ShardTask implements Function2<Integer, Iterator<Tuple2<ShardKey, TokenizedDocument>>, Iterator<ShardResult>> {
    private static final long serialVersionUID = 1L;
    /** seq_id = shard * 2^32 + row: unique across shards without knowing the other shards' row counts. */
    static final int ROW_BITS = 32;

    private final String outputDir;
    private final String versionDir;
    private final int shardOffset;
    private final HadoopConfSnapshot hadoopConf;
    private final TokenizerIdentity tokenizer;
    private final int chunkSize;
    private final int chunksPerSeq;
    private final String packing;
    private final boolean addBos;
    private final boolean addEos;
    private final int rowsPerBatch;

    /**
     * @param versionDir  the directory of this version's new shards inside the dataset ({@code v0002})
     * @param shardOffset shards of earlier versions that the new version keeps: seq_ids continue after theirs
     */
    public ShardTask(String outputDir, String versionDir, int shardOffset, HadoopConfSnapshot hadoopConf,
                     PackingSpec spec, int rowsPerBatch) {
        this.outputDir = outputDir;
        this.versionDir = versionDir;
        this.shardOffset = shardOffset;
        this.hadoopConf = hadoopConf;
        this.tokenizer = new TokenizerIdentity(spec.tokenizer());
        this.chunkSize = spec.chunkSize();
        this.chunksPerSeq = spec.chunksPerSeq();
        this.packing = spec.policy().configName();
        this.addBos = spec.addBos();
        this.addEos = spec.addEos();
        this.rowsPerBatch = rowsPerBatch;
    }

    @Override
    public Iterator<ShardResult> call(Integer shard, Iterator<Tuple2<ShardKey, TokenizedDocument>> documents) {
        PackingSpec spec = new PackingSpec(chunkSize, chunksPerSeq, PackingPolicy.parse(packing), addBos, addEos,
                tokenizer.info());
        Path dir = new Path(outputDir);
        FileSystem fs = DatasetLayout.fileSystem(dir, hadoopConf.toConfiguration());
        String fileName = versionDir + "/" + DatasetLayout.shardFileName(shard);
        TaskContext task = TaskContext.get();
        Path tmp = new Path(new Path(dir, DatasetLayout.TEMP_DIR),
                DatasetLayout.shardFileName(shard) + ".attempt-" + (task == null ? 0 : task.taskAttemptId()));
        Path target = new Path(dir, fileName);
        long seqIdBase = (long) (shardOffset + shard) << ROW_BITS;

        long read = 0;
        TreeMap<String, Long> skipped = new TreeMap<>();
        ShardStats written;
        PackingStats packed;
        try (ShardWriter writer = new ShardWriter(fs.create(tmp, true), DatasetHeader.of(spec), rowsPerBatch)) {
            SequencePacker packer = SequencePacker.create(spec, s -> {
                if (s.seqId() >= (1L << ROW_BITS)) {
                    throw new IllegalStateException("shard " + shard + " has more than 2^32 rows; use more --shards");
                }
                writer.write(s.withSeqId(seqIdBase + s.seqId()));
            });
            while (documents.hasNext()) {
                Tuple2<ShardKey, TokenizedDocument> d = documents.next();
                if (d._1().shard() != shard) {
                    throw new IllegalStateException("document " + d._1() + " reached shard " + shard);
                }
                read++;
                TokenizedDocument doc = d._2();
                if (doc.skipReason() != null) {
                    skipped.merge(doc.skipReason(), 1L, Long::sum);
                } else {
                    packer.accept(doc.tokens());
                }
            }
            packer.finish();
            packed = packer.stats();
            written = writer.finish();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write shard " + tmp + ": " + e.getMessage(), e);
        }
        if (packed.tokens() != written.tokens() || packed.sequences() != written.rows()) {
            throw new IllegalStateException("shard " + shard + ": packer counted " + packed + " but the writer wrote " + written);
        }
        commit(fs, tmp, target, written.bytes());
        return List.of(new ShardResult(shard, fileName, written.rows(), written.tokens(), written.padding(),
                written.bytes(), written.sha256(), read, packed.documents(), packed.splitDocuments(), skipped)).iterator();
    }

    private static void commit(FileSystem fs, Path tmp, Path target, long expectedBytes) {
        try {
            long len = fs.getFileStatus(tmp).getLen();
            if (len != expectedBytes) {
                throw new IllegalStateException("shard " + tmp + " has " + len + " bytes on disk but " + expectedBytes
                        + " were written");
            }
            // rename does not replace on every file system (HDFS): drop an earlier attempt's identical file first
            fs.delete(target, false);
            fs.mkdirs(target.getParent());
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move shard " + tmp + " to " + target + ": " + e.getMessage(), e);
        }
    }
}
