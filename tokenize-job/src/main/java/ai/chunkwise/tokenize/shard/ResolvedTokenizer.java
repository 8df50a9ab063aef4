package ai.chunkwise.tokenize.shard;

import ai.chunkwise.pipeline.tokenizer.HuggingFaceTokenizerJson;
import ai.chunkwise.pipeline.tokenizer.SpecialTokenNames;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.storage.Redact;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;

/**
 * A tokenizer spec resolved once, on the driver. For {@code hf:} specs it carries the tokenizer.json bytes,
 * read from any Hadoop path ({@code hf:hdfs:///tok/tokenizer.json}, {@code hf:s3a://...}), a local file, or a
 * file shipped with {@code spark-submit --files} (named by its file name: {@code hf:tokenizer.json}). The driver
 * broadcasts this object, so each executor fetches the bytes once and no executor needs the file on its disk.
 */
public final class ResolvedTokenizer implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String spec;
    // the explicit special token names as plain strings: Spark's Kryo cannot serialize a Java record
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    /** The tokenizer.json bytes of an hf: spec; null for the built-in tokenizers. */
    private final byte[] hfJson;
    /**
     * The local directory of an hf: tokenizer.json read from the driver's disk: its tokenizer_config.json /
     * special_tokens_map.json name the special tokens. Executors need not find it: they only encode (special ids
     * come from the driver's identity, and the vocabulary SHA-256 is checked).
     */
    private final String localDir;

    private ResolvedTokenizer(String spec, SpecialTokenNames specialTokens, byte[] hfJson, String localDir) {
        this.spec = spec;
        this.bosToken = specialTokens == null ? null : specialTokens.bos();
        this.eosToken = specialTokens == null ? null : specialTokens.eos();
        this.padToken = specialTokens == null ? null : specialTokens.pad();
        this.hfJson = hfJson;
        this.localDir = localDir;
    }

    public static ResolvedTokenizer resolve(String spec, SpecialTokenNames specialTokens, Configuration hadoopConf) {
        String s = spec == null ? null : spec.trim();
        if (s == null || !s.startsWith(HuggingFaceTokenizerJson.PREFIX)) {
            return new ResolvedTokenizer(s, specialTokens, null, null); // TextTokenizer.fromSpec validates it
        }
        String location = s.substring(HuggingFaceTokenizerJson.PREFIX.length()).trim();
        if (location.isEmpty()) {
            throw new IllegalArgumentException("tokenizer spec '" + spec + "' names no file; expected hf:/path/to/tokenizer.json "
                    + "or hf:hdfs:///path/to/tokenizer.json");
        }
        java.nio.file.Path local = localFile(location);
        return new ResolvedTokenizer(HuggingFaceTokenizerJson.PREFIX + Redact.uri(location), specialTokens,
                readHf(location, hadoopConf), local == null ? null : local.toAbsolutePath().getParent().toString());
    }

    private static java.nio.file.Path localFile(String location) {
        try {
            if (location.startsWith("file:")) {
                return java.nio.file.Path.of(URI.create(location));
            }
            java.nio.file.Path p = java.nio.file.Path.of(location);
            return Files.isRegularFile(p) ? p : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static byte[] readHf(String location, Configuration hadoopConf) {
        String shown = Redact.uri(location);
        try {
            if (URI.create(location.replace(" ", "%20")).getScheme() != null && !isWindowsDrive(location)) {
                Path p = new Path(location);
                FileSystem fs = p.getFileSystem(hadoopConf);
                try (FSDataInputStream in = fs.open(p)) {
                    return in.readAllBytes();
                }
            }
        } catch (IllegalArgumentException ignored) {
            // not a URI: a local path
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + shown + " (" + e.getMessage()
                    + "); check the path in the 'hf:' tokenizer spec and the file system's credentials in the "
                    + "Hadoop configuration", e);
        }
        try {
            java.nio.file.Path local = java.nio.file.Path.of(location);
            if (Files.isRegularFile(local)) {
                return Files.readAllBytes(local);
            }
            byte[] shipped = shippedWithFiles(local.getFileName().toString(), hadoopConf);
            if (shipped != null) {
                return shipped;
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + shown + " (" + e.getMessage()
                    + "); check the path in the 'hf:' tokenizer spec", e);
        }
        throw new IllegalArgumentException("Hugging Face tokenizer file " + shown + " does not exist here (no such local "
                + "file, and no file of that name was shipped with spark-submit --files); give a path every driver can "
                + "read (hf:hdfs:///path/tokenizer.json, hf:s3a://...), or ship it with --files /local/tokenizer.json "
                + "and give hf:tokenizer.json");
    }

    private static boolean isWindowsDrive(String location) {
        return location.length() > 1 && location.charAt(1) == ':';
    }

    /**
     * A file given to spark-submit --files, by its file name: the driver's copy once a SparkContext fetched it,
     * else the location spark-submit recorded in spark.files (read through Hadoop, before any Spark start-up).
     * On YARN, --files are localized into the driver's working directory, where the plain local lookup finds them.
     */
    private static byte[] shippedWithFiles(String name, Configuration hadoopConf) throws IOException {
        if (SparkEnv.get() != null) {
            File f = new File(SparkFiles.get(name));
            if (f.isFile()) {
                return Files.readAllBytes(f.toPath());
            }
        }
        String files = System.getProperty("spark.files", "");
        for (String entry : files.split(",")) {
            String e = entry.trim();
            if (!e.isEmpty() && new Path(e).getName().equals(name)) {
                Path p = new Path(e);
                try (FSDataInputStream in = p.getFileSystem(hadoopConf).open(p)) {
                    return in.readAllBytes();
                }
            }
        }
        return null;
    }

    public String spec() {
        return spec;
    }

    /** A new tokenizer (one per task: tokenizers need not be thread-safe). */
    public TextTokenizer open() {
        SpecialTokenNames specialTokens = new SpecialTokenNames(bosToken, eosToken, padToken);
        if (hfJson == null) {
            return TextTokenizer.fromSpec(spec, specialTokens);
        }
        java.nio.file.Path dir = localDir == null ? null : java.nio.file.Path.of(localDir);
        return HuggingFaceTokenizerJson.fromBytes(spec, hfJson, dir != null && Files.isDirectory(dir) ? dir : null,
                specialTokens);
    }
}
