export const ioComponents = [] as const;
