package ai.chunkwise.train.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code fullfs:///path}: the local file system, except that writes fail with "No space left on device" once
 * {@link #BUDGET} bytes have been written in all: a disk that fills up, for tests that cannot mount a small one.
 */
public class FullDiskFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "fullfs";
    /** Bytes that may still be written (shared by every instance). */
    public static final AtomicLong BUDGET = new AtomicLong(Long.MAX_VALUE);

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress) throws IOException {
        return limited(super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress));
    }

    @Override
    public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
                                     Progressable progress) throws IOException {
        return limited(super.create(f, overwrite, bufferSize, replication, blockSize, progress));
    }

    private FSDataOutputStream limited(FSDataOutputStream out) throws IOException {
        OutputStream counting = new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                take(1);
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                take(len);
                out.write(b, off, len);
            }
        };
        return new FSDataOutputStream(counting, null);
    }

    private static void take(long n) throws IOException {
        if (BUDGET.addAndGet(-n) < 0) {
            throw new IOException("No space left on device");
        }
    }

    /** The FileContext binding of the scheme ({@code fs.AbstractFileSystem.fullfs.impl}). */
    public static class Fs extends DelegateToFileSystem {
        public Fs(URI uri, Configuration conf) throws IOException, java.net.URISyntaxException {
            super(uri, new FullDiskFileSystem(), conf, SCHEME, false);
        }
    }
}
