export const transformComponents = [] as const;
