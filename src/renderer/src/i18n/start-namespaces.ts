/**
 * The namespaces the first screen (the traffic view in the app frame) reads, loaded before its
 * first render: the frame, the traffic list and filters, the detail pane's labels the list shares,
 * the status bar, the relay banner, the service's error texts and the interaction ladder (in the
 * start-up bundle). Their English files are in the start-up bundle (i18n/index.ts), German ones
 * are fetched.
 */
export const START_NAMESPACES: readonly string[] = ['common', 'traffic', 'detail', 'status', 'relay', 'errors', 'ladder'];
