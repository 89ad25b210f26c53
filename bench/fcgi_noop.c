/* scripts/bench: the transport floor. A FastCGI responder that does nothing, over the
 * same libfcgi and the same threading as the programs (N threads blocked in
 * FCGX_Accept_r on one socket), answering as oauth-check (200 and identity headers)
 * or oauth-connect (302, a Location and a cookie) would. What nginx -> FastCGI costs
 * on this machine before any of our code runs.
 *
 *   fcgi_noop SOCKET_PATH THREADS
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int listen_fd;

static const char check_answer[] =
    "Status: 200 OK\r\nX-Auth-User: octocat\r\nX-Auth-Email: octocat@example.com\r\n"
    "X-Auth-Login: octocat\r\nX-Auth-Provider: github\r\nCache-Control: no-store\r\n\r\n";
static const char connect_answer[] =
    "Status: 302 Found\r\nLocation: http://127.0.0.1/stub/authorize?client_id=bench-ours&state="
    "0123456789012345678901234567890123456789012\r\nSet-Cookie: oauth_session_bind="
    "0123456789012345678901234567890123456789012; Path=/; HttpOnly; SameSite=Lax; Max-Age=600\r\n"
    "Cache-Control: no-store\r\nContent-Length: 0\r\n\r\n";

static void* worker(void* unused) {
  (void)unused;
  FCGX_Request r;
  if (FCGX_InitRequest(&r, listen_fd, 0) != 0) return NULL;
  while (FCGX_Accept_r(&r) >= 0) {
    const char* uri = FCGX_GetParam("DOCUMENT_URI", r.envp);
    const char* answer = uri && strstr(uri, "connect") ? connect_answer : check_answer;
    FCGX_PutStr(answer, (int)strlen(answer), r.out);
    FCGX_FClose(r.err);
    FCGX_FClose(r.out);
    FCGX_Finish_r(&r);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fcgi_noop SOCKET_PATH THREADS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  FCGX_Init();
  unlink(argv[1]);
  listen_fd = FCGX_OpenSocket(argv[1], 128);
  if (listen_fd < 0) return 1;
  int n = atoi(argv[2]);
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
  }
  pause();
  return 0;
}
