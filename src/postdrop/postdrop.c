/* postdrop/postdrop.c: postrider-postdrop, the set-group-id helper that lets
 *                      ordinary users put mail into the maildrop.
 *
 * Owns: one job: copy an already-encoded maildrop record (pickup/drop_format.hpp)
 *       from stdin to <queue_dir>/maildrop/tmp/NAME, fsync it, rename it to
 *       maildrop/new/NAME and make the rename durable; print NAME on stdout.
 * Trust: installed mode 2755 root:postdrop (docs/security.md rule 1), so every
 *       input is the invoking user's: argv, stdin, the environment, the open
 *       file descriptors, the umask, the signal dispositions. Kept in plain C
 *       with libc only (no Boost, no logging library, no config parsing) so
 *       the privileged code is this file and nothing else. The group grants
 *       write access to maildrop/tmp and maildrop/new only (mode 1730: no
 *       listing, sticky) and we only write where that group already may:
 *       every directory is opened with O_NOFOLLOW and checked to be owned by
 *       our effective group with mode 1730. The record is checked for its
 *       framing (magic, version, length, CRC) only: the daemon validates
 *       the content as untrusted anyway (rule 2) and takes the submitting
 *       uid from the file owner (rule 3), which the kernel sets to ours.
 * Exit status: sysexits.h; one line on stderr for every failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* The largest record: pickup/drop_format.hpp max_drop_payload. */
#define MAX_PAYLOAD (128u * 1024u * 1024u)
#define HEAD_OCTETS 10u /* "PRD1", u16 version, u32 payload length */
#define TAIL_OCTETS 4u  /* u32 CRC-32 */
#define NEWEST_VERSION 2u
#define ID_LENGTH 16

static void die(int status, const char *what, int err)
{
    if (err)
        fprintf(stderr, "postrider-postdrop: %s: %s\n", what, strerror(err));
    else
        fprintf(stderr, "postrider-postdrop: %s\n", what);
    exit(status);
}

/* sanitize - the caller's process state is not ours to trust: fds 0-2 open
 * (else a file we open could become someone's stdout), nothing else open,
 * empty environment, known umask and SIGPIPE. */
static void sanitize(void)
{
    for (int fd = 0; fd <= 2; ++fd)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) _exit(EX_OSERR);
    if (close_range(3, ~0u, 0) != 0)
        for (int fd = 3; fd < 1024; ++fd) close(fd);
    clearenv();
    umask(077);
    signal(SIGPIPE, SIG_IGN);
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* read_exact - n bytes from fd 0; returns how many arrived before EOF. */
static size_t read_exact(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(0, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die(EX_IOERR, "reading standard input", errno);
        if (r == 0) break;
        got += (size_t)r;
    }
    return got;
}

/* read_record - the whole record, framing checked; never more than its length. */
static unsigned char *read_record(size_t *len)
{
    unsigned char head[HEAD_OCTETS];
    if (read_exact(head, HEAD_OCTETS) != HEAD_OCTETS || memcmp(head, "PRD1", 4) != 0)
        die(EX_DATAERR, "standard input is not a maildrop record (run sendmail, not this helper)", 0);
    unsigned version = (unsigned)head[4] | (unsigned)head[5] << 8;
    if (version < 1 || version > NEWEST_VERSION) die(EX_DATAERR, "unknown maildrop record version", 0);
    uint32_t payload = le32(head + 6);
    if (payload > MAX_PAYLOAD) die(EX_DATAERR, "maildrop record too large", 0);
    *len = HEAD_OCTETS + payload + TAIL_OCTETS;
    unsigned char *buf = malloc(*len);
    if (!buf) die(EX_TEMPFAIL, "out of memory", 0);
    memcpy(buf, head, HEAD_OCTETS);
    if (read_exact(buf + HEAD_OCTETS, *len - HEAD_OCTETS) != *len - HEAD_OCTETS)
        die(EX_DATAERR, "maildrop record truncated", 0);
    unsigned char extra;
    if (read_exact(&extra, 1) != 0) die(EX_DATAERR, "bytes after the maildrop record", 0);
    if (crc32_ieee(buf, *len - TAIL_OCTETS) != le32(buf + *len - TAIL_OCTETS))
        die(EX_DATAERR, "maildrop record CRC mismatch", 0);
    return buf;
}

/* open_dir - an O_PATH handle on dir/name (no read permission needed, no symlink followed). */
static int open_dir(int dir, const char *name)
{
    int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "postrider-postdrop: %s: %s\n", name, strerror(errno));
        exit(errno == EACCES ? EX_NOPERM : EX_TEMPFAIL);
    }
    return fd;
}

/* check_drop_dir - only a directory the admin gave to our group, mode 1730. */
static void check_drop_dir(int fd, const char *name)
{
    struct stat st;
    if (fstat(fd, &st) != 0) die(EX_TEMPFAIL, name, errno);
    if (st.st_gid != getegid() || (st.st_mode & 07777) != 01730) {
        fprintf(stderr, "postrider-postdrop: %s is not a maildrop directory (want mode 1730, group %u)\n", name,
                (unsigned)getegid());
        exit(EX_NOPERM);
    }
}

/* make_name - a queue id (queue/queue_id.hpp): 11 base-32 digits of microseconds, 5 random. */
static void make_name(char out[ID_LENGTH + 1])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) die(EX_TEMPFAIL, "getrandom", errno);
    for (int i = 10; i >= 0; --i, us >>= 5) out[i] = alphabet[us & 31];
    for (int i = 15; i >= 11; --i, rnd >>= 5) out[i] = alphabet[rnd & 31];
    out[ID_LENGTH] = '\0';
}

int main(int argc, char **argv)
{
    sanitize();
    if (getegid() == getgid() || getegid() == 0)
        die(EX_NOPERM, "not installed set-group-id to the postdrop group (chgrp postdrop; chmod 2755); "
                       "see docs/security.md", 0);
    if (geteuid() != getuid()) die(EX_NOPERM, "must not be set-user-id", 0);
    if (argc != 2 || argv[1][0] != '/') die(EX_USAGE, "usage: postrider-postdrop /ABSOLUTE/QUEUE_DIR < record", 0);

    int queue = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (queue < 0) die(errno == EACCES ? EX_NOPERM : EX_TEMPFAIL, argv[1], errno);
    int maildrop = open_dir(queue, "maildrop");
    int tmp = open_dir(maildrop, "tmp");
    int new_dir = open_dir(maildrop, "new");
    check_drop_dir(tmp, "maildrop/tmp");
    check_drop_dir(new_dir, "maildrop/new");

    size_t len = 0;
    unsigned char *record = read_record(&len);

    char name[ID_LENGTH + 1];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 5; ++tries) {
        make_name(name);
        fd = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) die(errno == EACCES ? EX_NOPERM : EX_TEMPFAIL, "maildrop/tmp", errno);
    }
    if (fd < 0) die(EX_TEMPFAIL, "no free maildrop name", 0);
    /* The daemon reads it as "other": the directories (0710, 1730) keep every user but us out. */
    int err = fchmod(fd, 0644) != 0 ? errno : 0;
    for (size_t done = 0; !err && done < len;) {
        ssize_t w = write(fd, record + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) err = errno;
        else done += (size_t)w;
    }
    if (!err && fsync(fd) != 0) err = errno;
    if (!err && renameat(tmp, name, new_dir, name) != 0) err = errno;
    if (err) {
        unlinkat(tmp, name, 0);
        die(EX_TEMPFAIL, "writing the maildrop file", err);
    }
    /* new/ is not readable for us (mode 1730), so it cannot be fsync'd: syncfs
     * flushes the rename (and everything else on that filesystem) instead. */
    if (syncfs(fd) != 0) die(EX_TEMPFAIL, "syncfs after the rename (the file is in maildrop/new)", errno);
    close(fd);
    printf("%s\n", name);
    return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
