package ai.chunkwise.tokenize.input;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.spark.api.java.JavaNewHadoopRDD;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import scala.Tuple2;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Iterator;

import static org.apache.spark.sql.functions.col;

/** Reads the input files as an RDD of {@link RawRecord}s, one per document (or record to skip). */
public final class DocumentSource {
    /** Splits smaller than this cost more in task overhead than they gain in parallelism. */
    static final long MIN_SPLIT_BYTES = 1L << 20;
    private DocumentSource() {
    }

    /**
     * @param textField   the Parquet column (parquet only; jsonl fields are extracted when decoding)
     * @param parallelism the number of partitions wanted; uncompressed line files are split to reach it so that
     *                    reading needs no extra shuffle (splits never change a line's key: its byte offset)
     */
    public static JavaRDD<RawRecord> read(SparkSession spark, InputFiles input, InputFormat format, String textField,
                                          int parallelism) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String pattern = input.readPaths();
        String root = input.root().toUri().toString();
        return switch (format) {
            case TEXT -> readWholeFiles(sc, pattern, root);
            case LINES, JSONL -> readLines(sc, pattern, root,
                    Math.max(MIN_SPLIT_BYTES, (input.totalBytes() + parallelism - 1) / parallelism));
            case PARQUET -> readParquet(spark, input.onlyListedFiles()
                    ? input.files().stream().map(f -> f.getPath().toString()).toArray(String[]::new)
                    : new String[]{pattern}, root, textField);
        };
    }

    private static JavaRDD<RawRecord> readWholeFiles(JavaSparkContext sc, String pattern, String root) {
        return sc.binaryFiles(pattern).mapPartitions(files -> {
            URI rootUri = URI.create(root);
            return new Iterator<RawRecord>() {
                @Override
                public boolean hasNext() {
                    return files.hasNext();
                }

                @Override
                public RawRecord next() {
                    var entry = files.next();
                    Path path = new Path(entry._1());
                    return new RawRecord(InputFiles.relativeKey(rootUri, path.toUri()), 0, readDecompressed(path, entry._2()));
                }
            };
        });
    }

    // binaryFiles hands over raw bytes; decompress .gz/.bz2/... by extension as Hadoop's text input would.
    private static byte[] readDecompressed(Path path, PortableDataStream stream) {
        try (DataInputStream raw = stream.open()) {
            CompressionCodec codec = new CompressionCodecFactory(stream.getConfiguration()).getCodec(path);
            if (codec == null) {
                return raw.readAllBytes();
            }
            try (InputStream in = codec.createInputStream(raw)) {
                return in.readAllBytes();
            }
        } catch (IOException | RuntimeException e) {
            throw unreadable(path, e);
        }
    }

    // a bad record is skipped and counted, but a file that cannot be read at all (truncated or corrupt
    // compression, I/O error) stops the job: skipping it would silently drop an unknown number of documents
    private static IllegalStateException unreadable(Path file, Exception e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        return new IllegalStateException("cannot read input file " + file + " (" + cause.getClass().getSimpleName() + ": "
                + cause.getMessage() + "); it is truncated or corrupt: repair or remove it and re-run", e);
    }

    private static JavaRDD<RawRecord> readLines(JavaSparkContext sc, String pattern, String root, long maxSplitBytes) {
        Configuration conf = new Configuration(sc.hadoopConfiguration());
        conf.setLong(FileInputFormat.SPLIT_MAXSIZE, maxSplitBytes);
        JavaPairRDD<LongWritable, Text> lines = sc.newAPIHadoopFile(pattern, StableOffsetTextInputFormat.class,
                LongWritable.class, Text.class, conf);
        return ((JavaNewHadoopRDD<LongWritable, Text>) lines).mapPartitionsWithInputSplit((split, records) -> {
            String file = InputFiles.relativeKey(URI.create(root), ((FileSplit) split).getPath().toUri());
            return new Iterator<RawRecord>() {
                @Override
                public boolean hasNext() {
                    try {
                        return records.hasNext();
                    } catch (Exception e) { // Hadoop's IOExceptions come through Scala's iterator unchecked
                        throw unreadable(((FileSplit) split).getPath(), e);
                    }
                }

                @Override
                public RawRecord next() {
                    Tuple2<LongWritable, Text> r;
                    try {
                        r = records.next();
                    } catch (Exception e) {
                        throw unreadable(((FileSplit) split).getPath(), e);
                    }
                    // the record reader reuses its Text: copy the bytes out
                    return new RawRecord(file, r._1().get(), r._2().copyBytes());
                }
            };
        }, false);
    }

    private static JavaRDD<RawRecord> readParquet(SparkSession spark, String[] paths, String root, String field) {
        Dataset<Row> df = spark.read().parquet(paths);
        String pattern = String.join(",", paths);
        StructField f = Arrays.stream(df.schema().fields()).filter(x -> x.name().equals(field)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Parquet input " + pattern + " has no column '" + field
                        + "'; its columns are " + Arrays.toString(df.schema().fieldNames())
                        + ". Name the text column with --text-field."));
        DataType type = f.dataType();
        if (!type.equals(DataTypes.StringType) && !type.equals(DataTypes.BinaryType)) {
            throw new IllegalArgumentException("Parquet column '" + field + "' of " + pattern + " has type "
                    + type.simpleString() + "; --text-field must name a string column");
        }
        // the raw bytes, so that invalid UTF-8 is detected instead of silently replaced
        Dataset<Row> rows = df.select(col("_metadata.file_path"), col("_metadata.row_index"),
                col("`" + field + "`").cast(DataTypes.BinaryType));
        return rows.javaRDD().mapPartitions(it -> {
            URI rootUri = URI.create(root);
            return new Iterator<RawRecord>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public RawRecord next() {
                    Row r = it.next();
                    String file = InputFiles.relativeKey(rootUri, fileUri(r.getString(0)));
                    return new RawRecord(file, r.getLong(1), r.isNullAt(2) ? null : (byte[]) r.get(2));
                }
            };
        });
    }

    private static URI fileUri(String sparkFilePath) {
        try {
            return new URI(sparkFilePath);
        } catch (URISyntaxException e) {
            return new Path(sparkFilePath).toUri();
        }
    }
}
